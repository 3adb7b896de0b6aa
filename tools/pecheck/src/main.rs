//! `pecheck check IMAGE ALLOW_LIST [--signed]` prints each failed check and exits 1 if any;
//! `pecheck fix-checksum IMAGE` writes the image's PE checksum; `pecheck checksum IMAGE`
//! prints it.
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let run = || -> Result<bool, String> {
        match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
            ["check", image, allow, rest @ ..] => {
                let data = std::fs::read(image).map_err(|e| format!("{image}: {e}"))?;
                let list = std::fs::read_to_string(allow).map_err(|e| format!("{allow}: {e}"))?;
                let signed = rest.contains(&"--signed");
                let findings = pecheck::check(&data, &pecheck::parse_allow_list(&list), signed)?;
                for f in &findings {
                    eprintln!("pecheck: {image}: {}", f.0);
                }
                if findings.is_empty() {
                    println!("pecheck: {image}: all checks passed{}", if signed { " (signed)" } else { "" });
                }
                Ok(findings.is_empty())
            }
            ["fix-checksum", image] => {
                let mut data = std::fs::read(image).map_err(|e| format!("{image}: {e}"))?;
                let sum = pecheck::fix_checksum(&mut data).ok_or("no PE header")?;
                std::fs::write(image, data).map_err(|e| format!("{image}: {e}"))?;
                println!("pecheck: {image}: checksum {sum:#010x}");
                Ok(true)
            }
            ["checksum", image] => {
                let data = std::fs::read(image).map_err(|e| format!("{image}: {e}"))?;
                println!("{:#010x}", pecheck::pe_checksum(&data).ok_or("no PE header")?);
                Ok(true)
            }
            _ => Err("usage: pecheck check IMAGE ALLOW_LIST [--signed] | fix-checksum IMAGE | checksum IMAGE".into()),
        }
    };
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("pecheck: {e}");
            ExitCode::from(2)
        }
    }
}
