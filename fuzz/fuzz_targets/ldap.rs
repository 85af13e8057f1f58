//! Any bytes as one LDAP client's stream: the server's codec reads each message or refuses
//! the stream, the session answers it, searches run over a small book and answers are
//! encoded; never a panic, never a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = phonedir::ldap::replay::replay(data);
});
