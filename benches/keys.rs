//! What a key costs a phone on the cached path: `Gate::open_cached` (throttle check, HMAC of
//! the presented key, in-memory lookup) next to the lookup every cached request made before
//! keys had scopes (`Store::cached_version`, the reference), and the same with a throttled
//! address in the table. Run with `cargo bench --bench keys`.

use criterion::{criterion_group, criterion_main, Criterion};
use phonedir::access::{Gate, GateConfig};
use phonedir::domain::{ApiKey, Scope};
use phonedir::store::Store;
use std::hint::black_box;
use std::net::IpAddr;
use std::sync::Arc;

fn keys(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open(dir.path()).expect("store"));
    let admin = ApiKey::parse("Kt4wQ9zLm2Rx7B").expect("key");
    store.create_directory(&admin).expect("directory");
    let (read, _) = store.create_key(&admin, Scope::Read, "").expect("read key");
    let gate = Gate::new(
        store.clone(),
        &GateConfig {
            key_failures_per_minute: 20,
            registrations_per_hour: 10,
            open_registration: true,
        },
    );
    let phone: IpAddr = "198.51.100.7".parse().expect("ip");
    // Warm: the key and the version are in memory, as for a phone that polls (after the
    // store noticed its own writes through `data_version`, which empties the memory once).
    std::thread::sleep(std::time::Duration::from_millis(300));
    store.cached_version(&admin).expect("notice");
    gate.open(phone, read.as_str(), Scope::Read).expect("open");
    store.version(&admin).expect("version");

    let mut g = c.benchmark_group("cached request");
    g.bench_function("reference: cached_version", |b| {
        b.iter(|| store.cached_version(black_box(&admin)).expect("version"))
    });
    let request = || {
        let a = gate
            .open_cached(phone, black_box(read.as_str()), Scope::Read)
            .expect("cached")
            .expect("opens");
        store.cached_version(&a.directory).expect("version")
    };
    g.bench_function("open_cached + cached_version", |b| b.iter(request));
    // Once any address was throttled, every check takes the throttle's lock.
    let attacker: IpAddr = "203.0.113.66".parse().expect("ip");
    for _ in 0..30 {
        let _ = gate.open(attacker, "Gx000000000001", Scope::Read);
    }
    g.bench_function("open_cached + cached_version, an address throttled", |b| {
        b.iter(request)
    });
    g.finish();
}

criterion_group!(benches, keys);
criterion_main!(benches);
