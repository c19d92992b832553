//! Build script. On Windows only, embeds the app icon, version information and the application
//! manifest into neversent.exe (packaging/windows/); on every other platform it does nothing.

fn main() {
    // Without this, Cargo would rerun the script whenever any file in the package changes.
    println!("cargo:rerun-if-changed=build.rs");
    #[cfg(windows)]
    windows_resources();
}

#[cfg(windows)]
fn windows_resources() {
    println!("cargo:rerun-if-changed=packaging/windows/neversent.ico");
    println!("cargo:rerun-if-changed=packaging/windows/neversent.exe.manifest");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("windows") {
        return;
    }
    let mut res = winresource::WindowsResource::new();
    res.set_icon("packaging/windows/neversent.ico")
        .set_manifest_file("packaging/windows/neversent.exe.manifest")
        .set("ProductName", "NeverSent")
        .set("FileDescription", "NeverSent")
        .set("InternalName", "neversent")
        .set("OriginalFilename", "neversent.exe")
        .set("CompanyName", "The NeverSent developers")
        .set("LegalCopyright", "Copyright (c) 2026 The NeverSent developers. MIT or Apache-2.0.");
    if let Err(e) = res.compile() {
        panic!("cannot embed the Windows resources (icon, manifest): {e}");
    }
}
