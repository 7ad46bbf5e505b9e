//! `cargo bench --bench build [-- SIZES...]`: compiles synthetic homelabs in
//! memory and reports wall time, peak heap and output size per size.
//!
//! A size is `NODESxAPPS` (default: `3x4` seed-sized, `10x1000`, `20x10000`).
//! `--write DIR NODESxAPPS[xNAMESPACES]` writes that homelab's files below DIR
//! instead and exits (with NAMESPACES, the apps are dealt round-robin into
//! that many namespaces and each has a volume): `benches/whole.sh` times the
//! binary on them.
//! Each size is built once to warm up, then timed over several runs; the
//! figure is the median. Peak heap is measured by a counting allocator over
//! one build. The generator writes what a large homelab looks like: one
//! network, one k3s cluster, N nodes, a MetalLB pool, a registry, and M apps
//! in M/50 namespaces with ports, services, ingresses, probes, resources,
//! metrics, secrets and a chain of `depends-on`; TLS from a CA issuer, the
//! secrets from a Vault store.

use std::alloc::{GlobalAlloc, Layout};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use homelabc::driver;
use homelabc::host::MemHost;
use mimalloc::MiMalloc;

/// Counts live and peak heap bytes, over mimalloc like the binary.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// Counting is on only for the one build whose peak is measured, so that the
/// timed builds run at full speed.
static COUNTING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        unsafe { MiMalloc.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        unsafe { MiMalloc.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            let live = LIVE.fetch_add(new_size, Ordering::Relaxed) + new_size;
            PEAK.fetch_max(live, Ordering::Relaxed);
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        unsafe { MiMalloc.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A synthetic description with `nodes` nodes and `apps` apps.
fn generate(nodes: usize, apps: usize) -> MemHost {
    MemHost::with(files(nodes, apps, None))
}

/// The files of [`generate`]'s description, by path. With `namespaces`, the
/// apps are dealt round-robin into that many namespaces and each has a
/// volume of its own (a claim); else they fill namespaces of 50.
fn files(nodes: usize, apps: usize, namespaces: Option<usize>) -> Vec<(String, String)> {
    let mut root = String::from(
        "homelab \"bench\" { domain \"lab.example.com\" }\n\
         network \"lan\" cidr=\"10.0.0.0/16\" gateway=\"10.0.0.1\" { dhcp \"10.0.200.0-10.0.200.255\" }\n\
         cluster \"bench\" distribution=\"k3s\" version=\"v1.33.6+k3s1\" {\n\
             load-balancer \"metallb\"\n\
             tls-issuer \"bench-ca\"\n\
         }\n\
         pool \"lb\" network=\"lan\" range=\"10.0.250.0-10.0.250.255\"\n\
         issuer \"bench-ca\" kind=\"ca\" secret=\"bench-ca\"\n\
         secret \"bench-ca\" namespace=\"cert-manager\" from=\"existing\" type=\"tls\"\n\
         secret-store \"vault\" provider=\"vault\" server=\"https://vault.lab.example.com\" path=\"secret\" \
             auth-secret=\"vault-token\"\n\
         secret \"vault-token\" namespace=\"external-secrets\" from=\"existing\"\n\
         registry \"local\" address=\"10.0.0.5:5000\" { insecure #true; pull-secret \"registry-auth\" }\n\
         import \"apps/\"\n",
    );
    for n in 0..nodes {
        let role = if n < 3.min(nodes) { "server" } else { "agent" };
        let _ = writeln!(
            root,
            "node \"node-{n}\" role=\"{role}\" {{ address \"10.0.{}.{}\" network=\"lan\"; cpu 64; memory \"256Gi\" }}",
            1 + n / 250,
            2 + n % 250
        );
    }
    let mut files = vec![("homelab.kdl".to_string(), root)];
    for a in 0..apps {
        let (ns, previous, first) = match namespaces {
            Some(n) => (a % n, a.checked_sub(n), a < n),
            None => (a / 50, (a % 50 > 0).then(|| a - 1), a % 50 == 0),
        };
        let depends = previous.map(|p| format!("depends-on \"app-{p}\"")).unwrap_or_default();
        let volume = if namespaces.is_some() { "volume \"data\" mount=\"/data\" size=\"1Gi\"" } else { "" };
        // The first app of a namespace declares the namespace's pull secret.
        let pull = if first {
            format!(
                "secret \"registry-auth\" namespace=\"ns-{ns}\" from=\"external\" store=\"vault\" key=\"registry\" \
                 type=\"docker-config\"\n"
            )
        } else {
            String::new()
        };
        let text = format!(
            "{pull}secret \"db-{a}\" namespace=\"ns-{ns}\" from=\"external\" store=\"vault\" key=\"apps/{a}\"\n\
             app \"app-{a}\" namespace=\"ns-{ns}\" {{\n\
                 image \"bench/app-{a}\" registry=\"local\" tag=\"1.0.{a}\"\n\
                 replicas 2\n\
                 port \"http\" 8080\n\
                 port \"metrics\" 9090\n\
                 service type=\"ClusterIP\" {{ expose \"http\" 80 }}\n\
                 ingress host=\"app-{a}\" path=\"/\" port=\"http\" tls=#true\n\
                 probe \"liveness\" http=\"/healthz\" port=\"http\" delay=\"10s\"\n\
                 probe \"readiness\" http=\"/ready\" port=\"http\"\n\
                 resources cpu=\"10m\" memory=\"16Mi\" cpu-limit=\"100m\" memory-limit=\"64Mi\"\n\
                 env \"LOG_LEVEL\" \"info\"\n\
                 env \"DB_PASSWORD\" secret=\"db-{a}\" key=\"password\"\n\
                 metrics path=\"/metrics\" port=\"metrics\"\n\
                 spread \"node\"\n\
                 {depends}\n\
                 {volume}\n\
             }}\n"
        );
        files.push((format!("apps/{a:05}.kdl"), text));
    }
    files
}

/// Writes [`files`] below `dir` (`--write`).
fn write(dir: &std::path::Path, nodes: usize, apps: usize, namespaces: Option<usize>) {
    for (path, text) in files(nodes, apps, namespaces) {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().expect("a folder")).expect("create the folder");
        std::fs::write(&file, text).expect("write the file");
    }
}

struct Figures {
    parse_ms: f64,
    check_ms: f64,
    emit_ms: f64,
    layout_ms: f64,
    seal_ms: f64,
    median_ms: f64,
    peak_mib: f64,
    files: usize,
    bytes: usize,
    errors: usize,
}

fn measure(host: &MemHost, runs: usize) -> Figures {
    let build = || {
        let built = driver::build(host, "homelab.kdl");
        let errors = built.checked.diagnostics.iter().filter(|d| d.is_error()).count();
        let tree = built.tree.and_then(Result::ok).unwrap_or_default();
        (errors, tree)
    };
    let parse = || {
        let mut sources = homelabc::source::SourceMap::new();
        let mut diags = Vec::new();
        homelabc::load::load(host, "homelab.kdl", &mut sources, &mut diags)
    };
    let parse_ms = median(runs, || drop(parse()));
    let check_ms = median(runs, || drop(driver::check(host, "homelab.kdl")));
    let checked = driver::check(host, "homelab.kdl");
    let emit_ms = median(runs, || drop(homelabc::backend::emit(&checked.model, &checked.clusters(), &checked.graph)));
    let emit = || homelabc::backend::emit(&checked.model, &checked.clusters(), &checked.graph);
    let layout_ms = median_timed(runs, || {
        let artifacts = emit();
        let start = Instant::now();
        drop(homelabc::layout::assemble(artifacts));
        start.elapsed()
    });
    let seal_ms = median_timed(runs, || {
        let tree = homelabc::layout::assemble(emit()).expect("layout");
        let start = Instant::now();
        drop(tree.seal(driver::COMPILER_VERSION));
        start.elapsed()
    });
    drop(checked);
    let median_ms = median(runs, || drop(build()));
    LIVE.store(0, Ordering::Relaxed);
    PEAK.store(0, Ordering::Relaxed);
    COUNTING.store(true, Ordering::Relaxed);
    let (errors, tree) = build();
    COUNTING.store(false, Ordering::Relaxed);
    let peak = PEAK.load(Ordering::Relaxed);
    let bytes = tree.files().map(|(_, b)| b.len()).sum();
    Figures {
        parse_ms,
        check_ms,
        emit_ms,
        layout_ms,
        seal_ms,
        median_ms,
        peak_mib: peak as f64 / (1024.0 * 1024.0),
        files: tree.len(),
        bytes,
        errors,
    }
}

/// The median wall time of `runs` calls, in milliseconds, after one warm-up call.
fn median(runs: usize, mut f: impl FnMut()) -> f64 {
    median_timed(runs, || {
        let start = Instant::now();
        f();
        start.elapsed()
    })
}

/// The median of the durations `runs` calls report, in milliseconds, after one warm-up call.
fn median_timed(runs: usize, mut f: impl FnMut() -> Duration) -> f64 {
    f();
    let mut times: Vec<f64> = (0..runs).map(|_| f().as_secs_f64() * 1000.0).collect();
    times.sort_by(|a, b| a.total_cmp(b));
    times[times.len() / 2]
}

/// `NODESxAPPS` as two numbers.
fn size(text: &str) -> (usize, usize) {
    let (n, a) = text.split_once('x').expect("NODESxAPPS");
    (n.parse().expect("nodes"), a.parse().expect("apps"))
}

fn main() {
    let all: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = all.iter().position(|a| a == "--write") {
        // NODESxAPPS, or NODESxAPPSxNAMESPACES (round-robin, a volume each).
        let (dir, spec) = (&all[i + 1], &all[i + 2]);
        let (size_part, namespaces) = match spec.rsplit_once('x') {
            Some((head, ns)) if head.contains('x') => (head, Some(ns.parse().expect("namespaces"))),
            _ => (spec.as_str(), None),
        };
        let (nodes, apps) = size(size_part);
        write(std::path::Path::new(dir), nodes, apps, namespaces);
        return;
    }
    let args: Vec<String> = all.into_iter().filter(|a| a.contains('x')).collect();
    let sizes = if args.is_empty() { vec!["3x4".to_string(), "10x1000".into(), "20x10000".into()] } else { args };
    println!(
        "{:>6} {:>7} {:>9} {:>9} {:>8} {:>9} {:>8} {:>9} {:>9} {:>7} {:>11}",
        "nodes",
        "apps",
        "parse ms",
        "check ms",
        "emit ms",
        "layout ms",
        "seal ms",
        "build ms",
        "peak MiB",
        "files",
        "output KiB"
    );
    for size in sizes {
        let (nodes, apps) = self::size(&size);
        let host = generate(nodes, apps);
        let runs = if apps >= 10_000 {
            5
        } else if apps >= 1000 {
            9
        } else {
            51
        };
        let f = measure(&host, runs);
        assert_eq!(f.errors, 0, "the generated homelab must compile without errors");
        println!(
            "{nodes:>6} {apps:>7} {:>9.2} {:>9.2} {:>8.2} {:>9.2} {:>8.2} {:>9.2} {:>9.1} {:>7} {:>11.0}",
            f.parse_ms,
            f.check_ms,
            f.emit_ms,
            f.layout_ms,
            f.seal_ms,
            f.median_ms,
            f.peak_mib,
            f.files,
            f.bytes as f64 / 1024.0
        );
    }
}
