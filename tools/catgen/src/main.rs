//! `catgen --sys rsmailslot.sys --inf rsmailslot.inf --cert test.crt --key test.key
//! --time SECONDS --os 2:10.0 --out rsmailslot.cat`: writes the package's signed catalog.

use std::path::Path;
use std::process::ExitCode;

use catgen::{catalog_list, sign, Kind, Member};
use der::DecodePem;
use pkcs8::DecodePrivateKey;
use rsa::RsaPrivateKey;
use x509_cert::Certificate;

fn arg(args: &[String], name: &str) -> Result<String, String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .ok_or_else(|| format!("{name} is missing"))
}

fn read(path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{path}: {e}"))
}

fn file_name(path: &str) -> Result<String, String> {
    Path::new(path)
        .file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
        .ok_or_else(|| format!("{path}: no file name"))
}

fn run(args: &[String]) -> Result<(), String> {
    let sys = arg(args, "--sys")?;
    let inf = arg(args, "--inf")?;
    let time: u64 = arg(args, "--time")?
        .parse()
        .map_err(|e| format!("--time: {e}"))?;
    let members = [
        Member::of(&file_name(&sys)?, Kind::Pe, &read(&sys)?)?,
        Member::of(&file_name(&inf)?, Kind::Flat, &read(&inf)?)?,
    ];
    let ctl = catalog_list(&members, time, &arg(args, "--os")?)?;
    let cert_pem = String::from_utf8(read(&arg(args, "--cert")?)?).map_err(|e| e.to_string())?;
    let cert = Certificate::from_pem(cert_pem.as_bytes()).map_err(|e| format!("--cert: {e}"))?;
    let key_pem = String::from_utf8(read(&arg(args, "--key")?)?).map_err(|e| e.to_string())?;
    let key = RsaPrivateKey::from_pkcs8_pem(&key_pem).map_err(|e| format!("--key: {e}"))?;
    let cat = sign(&ctl, &cert, key, time)?;
    let out = arg(args, "--out")?;
    std::fs::write(&out, &cat).map_err(|e| format!("{out}: {e}"))?;
    for m in &members {
        println!("catgen: {} {}", m.name, hex(&m.digest));
    }
    println!(
        "catgen: {out}: {} bytes, signed by {}",
        cat.len(),
        cert.tbs_certificate.subject
    );
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("catgen: {e}");
            ExitCode::FAILURE
        }
    }
}
