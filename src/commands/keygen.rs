//! `session-ready keygen`: a clinic's age key pair, so clinician copies can be
//! encrypted on the client's machine and opened only at the clinic.

use crate::cli::KeygenArgs;
use crate::error::{Exit, InputError};
use crate::report::encrypt::generate_identity;

pub fn run(args: KeygenArgs) -> anyhow::Result<Exit> {
    let (key_file, public) = generate_identity();
    match &args.output {
        Some(path) => {
            // A key file is never replaced: losing the old key would make every
            // report encrypted to it unreadable.
            if path.exists() {
                return Err(InputError::file(
                    path,
                    "a file is already there, and it may be a key that reports are encrypted \
                     to, so it was left untouched. Choose another name with --output.",
                )
                .into());
            }
            crate::fsutil::write_private(path, key_file.as_bytes())?;
            eprintln!(
                "Private key written to {} (only your user account can read it). Keep it \
                 safe at the clinic: it is the only way to open reports encrypted to it.\n\
                 Public key, to give to clients or to put in the clinic file as `recipient`:",
                path.display()
            );
            crate::fsutil::emit(None, format!("{public}\n").as_bytes())?;
        }
        None => {
            crate::fsutil::emit(None, key_file.as_bytes())?;
            eprintln!("Public key: {public}");
        }
    }
    Ok(Exit::Done)
}
