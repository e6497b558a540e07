//! A packet-level delay line for the network benchmark (Linux, root).
//!
//! This kernel has no netem, so delay and jitter are added in user space.
//! Unlike a TCP proxy, this works on packets: it opens a TUN device, and the
//! benchmark routes both directions of the client↔server path through it
//! (policy routing in a middle namespace). Every packet read is written back
//! after `--delay-ms` ± `--jitter-ms` (uniform), keeping each flow's packets
//! in order, so TCP sees a real round trip and UDP real jitter.
//!
//!   linkdelay --dev dl0 --delay-ms 20 --jitter-ms 3
//!
//! Runs until killed. Prints "ready" once the device exists.
// TUN devices are Linux-only; elsewhere the example builds and says so.
#![cfg_attr(not(target_os = "linux"), allow(dead_code, unused_imports))]
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
#[cfg(target_os = "linux")]
use std::os::fd::AsRawFd;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use rand::{RngExt, SeedableRng, rngs::SmallRng};

#[cfg(target_os = "linux")]
const IFF_TUN: libc::c_short = 0x0001;
#[cfg(target_os = "linux")]
const IFF_NO_PI: libc::c_short = 0x1000;
#[cfg(target_os = "linux")]
const TUNSETIFF: libc::c_ulong = 0x4004_54ca;

#[cfg(target_os = "linux")]
#[repr(C)]
struct IfReq {
    name: [u8; libc::IFNAMSIZ],
    flags: libc::c_short,
    _pad: [u8; 22],
}

#[cfg(target_os = "linux")]
fn open_tun(name: &str) -> std::io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/net/tun")?;
    let mut req = IfReq {
        name: [0; libc::IFNAMSIZ],
        flags: IFF_TUN | IFF_NO_PI,
        _pad: [0; 22],
    };
    let bytes = name.as_bytes();
    if bytes.len() >= libc::IFNAMSIZ {
        return Err(std::io::Error::other("device name too long"));
    }
    req.name[..bytes.len()].copy_from_slice(bytes);
    // SAFETY: TUNSETIFF reads an ifreq-sized struct we own for the duration of the call.
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), TUNSETIFF as _, &mut req) };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(file)
}

/// Source, destination, protocol and ports of an IPv4 packet: packets of one
/// flow are released in order, so jitter never reorders a TCP stream.
fn flow_key(p: &[u8]) -> u64 {
    if p.len() < 20 || p[0] >> 4 != 4 {
        return 0;
    }
    let ihl = usize::from(p[0] & 0x0f) * 4;
    let proto = u64::from(p[9]);
    let src = u64::from(u32::from_be_bytes([p[12], p[13], p[14], p[15]]));
    let dst = u64::from(u32::from_be_bytes([p[16], p[17], p[18], p[19]]));
    let ports = if (proto == 6 || proto == 17) && p.len() >= ihl + 4 {
        u64::from(u32::from_be_bytes([
            p[ihl],
            p[ihl + 1],
            p[ihl + 2],
            p[ihl + 3],
        ]))
    } else {
        0
    };
    (src.rotate_left(17) ^ dst.rotate_left(41) ^ ports.rotate_left(7) ^ proto)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

struct Queue {
    heap: BinaryHeap<Reverse<(Instant, u64)>>,
    packets: HashMap<u64, Vec<u8>>,
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

#[cfg(target_os = "linux")]
fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let dev = arg(&args, "--dev").unwrap_or_else(|| "dl0".into());
    let delay = arg(&args, "--delay-ms")
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0);
    let jitter = arg(&args, "--jitter-ms")
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0);
    let seed = arg(&args, "--seed")
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(1);

    let tun = open_tun(&dev)?;
    let mut reader = tun.try_clone()?;
    let mut writer = tun;
    println!("ready");
    std::io::stdout().flush()?;

    let shared = Arc::new((
        Mutex::new(Queue {
            heap: BinaryHeap::new(),
            packets: HashMap::new(),
        }),
        Condvar::new(),
    ));

    let release = shared.clone();
    std::thread::spawn(move || {
        let (lock, wake) = &*release;
        let mut queue = lock.lock().expect("queue lock");
        loop {
            let next = queue.heap.peek().map(|Reverse((due, id))| (*due, *id));
            match next {
                None => queue = wake.wait(queue).expect("queue lock"),
                Some((due, id)) => {
                    let now = Instant::now();
                    if due > now {
                        queue = wake.wait_timeout(queue, due - now).expect("queue lock").0;
                        continue;
                    }
                    queue.heap.pop();
                    if let Some(packet) = queue.packets.remove(&id) {
                        drop(queue);
                        let _ = writer.write(&packet);
                        queue = lock.lock().expect("queue lock");
                    }
                }
            }
        }
    });

    let mut rng = SmallRng::seed_from_u64(seed);
    let mut last_due: HashMap<u64, Instant> = HashMap::new();
    let mut buf = vec![0u8; 65536];
    let mut id: u64 = 0;
    loop {
        let n = reader.read(&mut buf)?;
        let now = Instant::now();
        let wobble = if jitter > 0.0 {
            rng.random_range(-jitter..=jitter)
        } else {
            0.0
        };
        let one_way = Duration::from_secs_f64(((delay + wobble) / 1000.0).max(0.0));
        let flow = flow_key(&buf[..n]);
        let due = (now + one_way).max(last_due.get(&flow).copied().unwrap_or(now));
        last_due.insert(flow, due);
        if last_due.len() > 4096 {
            last_due.retain(|_, d| *d > now);
        }
        id += 1;
        let (lock, wake) = &*shared;
        let mut queue = lock.lock().expect("queue lock");
        queue.heap.push(Reverse((due, id)));
        queue.packets.insert(id, buf[..n].to_vec());
        wake.notify_one();
    }
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("linkdelay needs Linux: it adds delay with a TUN device.");
    std::process::exit(2);
}
