//! Owner-only files on Windows, where mode bits do not exist: the temp file is
//! born with a protected access list (no entries inherited from the folder)
//! that allows the current user and nobody else, so no other account can open
//! it even for a moment. The rename into place keeps that list.
use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::windows::ffi::OsStrExt;
use std::os::windows::io::FromRawHandle;
use std::path::Path;
use std::ptr::null_mut;

use windows_sys::Win32::Foundation::{
    CloseHandle, GENERIC_READ, GENERIC_WRITE, HANDLE, INVALID_HANDLE_VALUE, LocalFree,
};
use windows_sys::Win32::Security::Authorization::{
    ConvertSidToStringSidW, ConvertStringSecurityDescriptorToSecurityDescriptorW,
    GetNamedSecurityInfoW, SDDL_REVISION_1, SE_FILE_OBJECT,
};
use windows_sys::Win32::Security::{
    ACCESS_ALLOWED_ACE, ACL, DACL_SECURITY_INFORMATION, EqualSid, GetAce,
    GetSecurityDescriptorControl, GetTokenInformation, PSECURITY_DESCRIPTOR, PSID,
    SE_DACL_PROTECTED, SECURITY_ATTRIBUTES, TOKEN_QUERY, TOKEN_USER, TokenUser,
};
use windows_sys::Win32::Storage::FileSystem::{
    CREATE_NEW, CreateFileW, DELETE, FILE_ATTRIBUTE_NORMAL, FILE_SHARE_DELETE, FILE_SHARE_READ,
    FILE_SHARE_WRITE,
};
use windows_sys::Win32::System::SystemServices::ACCESS_ALLOWED_ACE_TYPE;
use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

fn wide(text: &OsStr) -> Vec<u16> {
    text.encode_wide().chain(std::iter::once(0)).collect()
}

/// Memory Windows allocated for us with LocalAlloc, freed on drop.
struct LocalMemory(*mut core::ffi::c_void);

impl Drop for LocalMemory {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: the pointer came from an API documented to need LocalFree.
            unsafe { LocalFree(self.0) };
        }
    }
}

/// The TOKEN_USER of this process (the user SID lives inside the buffer).
struct CurrentUser(Vec<u64>);

impl CurrentUser {
    fn read() -> io::Result<CurrentUser> {
        // SAFETY: plain Win32 calls with valid out-pointers; the token handle is
        // closed on every path and the buffer is sized by the first call.
        unsafe {
            let mut token: HANDLE = null_mut();
            if OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) == 0 {
                return Err(io::Error::last_os_error());
            }
            let mut needed = 0u32;
            GetTokenInformation(token, TokenUser, null_mut(), 0, &mut needed);
            let mut buffer = vec![0u64; (needed as usize).div_ceil(8).max(2)];
            let ok = GetTokenInformation(
                token,
                TokenUser,
                buffer.as_mut_ptr().cast(),
                (buffer.len() * 8) as u32,
                &mut needed,
            );
            let error = io::Error::last_os_error();
            CloseHandle(token);
            if ok == 0 {
                return Err(error);
            }
            Ok(CurrentUser(buffer))
        }
    }

    fn sid(&self) -> PSID {
        // SAFETY: the buffer holds a TOKEN_USER written by GetTokenInformation.
        unsafe { (*self.0.as_ptr().cast::<TOKEN_USER>()).User.Sid }
    }

    /// "Protected list, one entry: full access for this user", in SDDL.
    fn owner_only_descriptor(&self) -> io::Result<LocalMemory> {
        // SAFETY: the SID is valid while self lives; both outputs are LocalAlloc'd.
        unsafe {
            let mut sid_text: *mut u16 = null_mut();
            if ConvertSidToStringSidW(self.sid(), &mut sid_text) == 0 {
                return Err(io::Error::last_os_error());
            }
            let _free_sid_text = LocalMemory(sid_text.cast());
            let len = (0..).take_while(|&i| *sid_text.add(i) != 0).count();
            let sid = String::from_utf16_lossy(std::slice::from_raw_parts(sid_text, len));
            let sddl = format!("D:P(A;;FA;;;{sid})");
            let mut descriptor: PSECURITY_DESCRIPTOR = null_mut();
            if ConvertStringSecurityDescriptorToSecurityDescriptorW(
                wide(OsStr::new(&sddl)).as_ptr(),
                SDDL_REVISION_1,
                &mut descriptor,
                null_mut(),
            ) == 0
            {
                return Err(io::Error::last_os_error());
            }
            Ok(LocalMemory(descriptor))
        }
    }
}

/// Create `path` (which must not exist) readable and writable by the current user only.
pub fn create_owner_only(path: &Path) -> io::Result<File> {
    let descriptor = CurrentUser::read()?.owner_only_descriptor()?;
    let attributes = SECURITY_ATTRIBUTES {
        nLength: size_of::<SECURITY_ATTRIBUTES>() as u32,
        lpSecurityDescriptor: descriptor.0,
        bInheritHandle: 0,
    };
    // SAFETY: valid, NUL-terminated path and attributes that outlive the call.
    let handle = unsafe {
        CreateFileW(
            wide(path.as_os_str()).as_ptr(),
            GENERIC_READ | GENERIC_WRITE | DELETE,
            // Sharing only matters to holders of access, i.e. this user; the
            // rename into place needs FILE_SHARE_DELETE.
            FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
            &attributes,
            CREATE_NEW,
            FILE_ATTRIBUTE_NORMAL,
            null_mut(),
        )
    };
    if handle == INVALID_HANDLE_VALUE {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh handle that we own.
    Ok(unsafe { File::from_raw_handle(handle) })
}

/// Whether `path` has a protected access list whose only entry allows the current user.
pub fn is_owner_only(path: &Path) -> io::Result<bool> {
    let user = CurrentUser::read()?;
    let mut dacl: *mut ACL = null_mut();
    let mut descriptor: PSECURITY_DESCRIPTOR = null_mut();
    // SAFETY: valid path and out-pointers; the descriptor is LocalAlloc'd and
    // `dacl` points inside it, so it is read only while `_descriptor` lives.
    unsafe {
        let status = GetNamedSecurityInfoW(
            wide(path.as_os_str()).as_ptr(),
            SE_FILE_OBJECT,
            DACL_SECURITY_INFORMATION,
            null_mut(),
            null_mut(),
            &mut dacl,
            null_mut(),
            &mut descriptor,
        );
        if status != 0 {
            return Err(io::Error::from_raw_os_error(status as i32));
        }
        let _descriptor = LocalMemory(descriptor);
        let (mut control, mut revision) = (0u16, 0u32);
        if GetSecurityDescriptorControl(descriptor, &mut control, &mut revision) == 0 {
            return Err(io::Error::last_os_error());
        }
        // A null list would mean "everyone may do anything".
        if dacl.is_null() || control & SE_DACL_PROTECTED == 0 || (*dacl).AceCount != 1 {
            return Ok(false);
        }
        let mut ace: *mut core::ffi::c_void = null_mut();
        if GetAce(dacl, 0, &mut ace) == 0 {
            return Err(io::Error::last_os_error());
        }
        let ace = ace.cast::<ACCESS_ALLOWED_ACE>();
        if u32::from((*ace).Header.AceType) != ACCESS_ALLOWED_ACE_TYPE {
            return Ok(false);
        }
        let ace_sid: PSID = (&raw mut (*ace).SidStart).cast();
        Ok(EqualSid(ace_sid, user.sid()) != 0)
    }
}
