use usermode_test::cli::{Options, USAGE};

fn main() {
    let opts = match Options::parse(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("usermode-test: {e}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    if opts.help {
        println!("{USAGE}");
        return;
    }
    std::process::exit(run(&opts));
}

#[cfg(windows)]
fn run(opts: &Options) -> i32 {
    let system = usermode_test::sys::Windows;
    if opts.bench {
        usermode_test::bench::run(opts, &system)
    } else {
        usermode_test::run::run(opts, &system)
    }
}

#[cfg(not(windows))]
fn run(_: &Options) -> i32 {
    eprintln!("usermode-test drives Windows' mailslot API: build it for Windows (tools/test-harness.sh) and run it there or under Wine");
    2
}
