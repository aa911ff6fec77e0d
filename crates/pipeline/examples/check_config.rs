//! `cargo run -p pipeline --example check_config -- CONFIG [TABLES]`: what
//! `binlog-analyzer check-config` prints (the CLI wires the same calls).

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(config) = args.first() else {
        eprintln!("usage: check_config CONFIG [TABLES]");
        std::process::exit(2);
    };
    let tables = args.get(1).map(std::path::PathBuf::from);
    match pipeline::Config::load(config.as_ref(), tables.as_deref()) {
        Ok(cfg) => print!("{}", pipeline::check_report(&cfg)),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
