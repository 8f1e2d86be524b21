//! Embeds the browser assets: the NHS.UK frontend's compiled CSS, JavaScript and icons
//! (npm `nhsuk-frontend`, pinned in package.json and package-lock.json) and our own files
//! in `static/`.
//!
//! - When `node_modules` is missing or older than the lockfile, runs `npm ci` (stdout to
//!   stderr: cargo reads a build script's stdout as instructions). Without npm the build
//!   stops with a one-line instruction.
//! - Every file is written to `OUT_DIR/assets/` under a name holding a hash of its content,
//!   so it can be cached for a year; the CSS's image URLs and the manifest's icon paths are
//!   rewritten to the hashed names.
//! - The CSS's `@font-face` rules are dropped: they load Frutiger from an NHS CDN, which the
//!   strict CSP (`font-src 'self'`) refuses and offline machines cannot reach; the design
//!   system falls back to Arial.
//! - Text files also get a gzip copy, served to clients that accept it.
//! - `OUT_DIR/assets.rs` lists them as `include_bytes!` statics with URL constants.
//!
//! Only build.rs, package.json, package-lock.json and `static/` are watched: `npm ci`
//! rewrites `node_modules/.package-lock.json`, so watching it would rebuild every time.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;
use std::{env, fs};

use sha2::{Digest, Sha256};

const DIST: &str = "node_modules/nhsuk-frontend/dist/nhsuk";

/// One embedded file: its URL name, its constant in the generated Rust, and its bytes.
struct Asset {
    constant: &'static str,
    name: String,
    content_type: &'static str,
    body: Vec<u8>,
}

fn main() {
    for watched in ["build.rs", "package.json", "package-lock.json", "static", "migrations"] {
        println!("cargo:rerun-if-changed={watched}");
    }
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    ensure_node_modules(&root);
    let dist = root.join(DIST);
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let dir = out.join("assets");
    fs::create_dir_all(&dir).expect("create OUT_DIR/assets");

    let mut assets = Vec::new();
    let image = |file: &str| dist.join("assets/images").join(file);
    // Images the CSS points at, and the icons a page links.
    let mut images = Vec::new();
    for (constant, file, content_type) in [
        ("ICON_ARROW_DOWN", "nhsuk-icon-arrow-down.svg", "image/svg+xml"),
        ("ICON_ARROW_UP", "nhsuk-icon-arrow-up.svg", "image/svg+xml"),
        ("ICON_ARROW_UP_DOWN", "nhsuk-icon-arrow-up-down.svg", "image/svg+xml"),
        ("ICON_CROSS", "nhsuk-icon-cross.svg", "image/svg+xml"),
        ("FAVICON_ICO", "favicon.ico", "image/x-icon"),
        ("FAVICON_SVG", "favicon.svg", "image/svg+xml"),
        ("MASK_ICON", "nhsuk-icon-mask.svg", "image/svg+xml"),
        ("APPLE_TOUCH_ICON", "nhsuk-icon-180.png", "image/png"),
        ("ICON_192", "nhsuk-icon-192.png", "image/png"),
        ("ICON_512", "nhsuk-icon-512.png", "image/png"),
    ] {
        let asset = hashed(constant, file, content_type, read(&image(file)));
        images.push((format!("images/{file}"), asset.name.clone()));
        assets.push(asset);
    }

    let css = read_text(&dist.join("nhsuk-frontend.min.css"));
    let own_css = read_text(&root.join("static/app.css"));
    let css = format!(
        "{}\n{own_css}",
        rewrite_urls(&drop_font_faces(&strip_source_map(&css)), &images)
    );
    assets.push(hashed(
        "CSS",
        "nhsuk-frontend.min.css",
        "text/css; charset=utf-8",
        css.into_bytes(),
    ));

    let js = strip_source_map(&read_text(&dist.join("nhsuk-frontend.min.js")));
    let js = hashed(
        "NHSUK_JS",
        "nhsuk-frontend.min.js",
        "text/javascript; charset=utf-8",
        js.into_bytes(),
    );
    let init = format!("import {{ initAll }} from \"/assets/{}\";\ninitAll();\n", js.name);
    assets.push(js);
    assets.push(hashed(
        "JS",
        "init.js",
        "text/javascript; charset=utf-8",
        init.into_bytes(),
    ));
    assets.push(hashed(
        "JS_ENABLED",
        "js-enabled.js",
        "text/javascript; charset=utf-8",
        read(&root.join("static/js-enabled.js")),
    ));

    let manifest = rewrite_manifest(&read_text(&dist.join("assets/manifest.json")), &images);
    assets.push(hashed(
        "MANIFEST",
        "manifest.json",
        "application/manifest+json",
        manifest.into_bytes(),
    ));

    write_assets(&dir, &out, &assets);
}

/// Runs `npm ci` when the packages are missing or the lockfile changed since they were
/// installed.
fn ensure_node_modules(root: &Path) {
    let css = root.join(DIST).join("nhsuk-frontend.min.css");
    let installed = root.join("node_modules/.package-lock.json");
    let stale = match (modified(&root.join("package-lock.json")), modified(&installed)) {
        (Some(lock), Some(done)) => lock > done,
        _ => true,
    };
    if css.exists() && !stale {
        return;
    }
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    if Command::new(npm).arg("--version").output().is_err() {
        stop("building cla-tracker needs Node.js and npm (for the NHS.UK frontend): install them (e.g. `apt-get install nodejs npm`) and build again");
    }
    let status = Command::new(npm)
        .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
        .current_dir(root)
        .stdout(std::io::stderr())
        .status();
    match status {
        Ok(s) if s.success() && css.exists() => {}
        _ => stop("`npm ci` failed: run it in the project folder to see why, then build again"),
    }
}

fn stop(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}

fn modified(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| stop(&format!("cannot read {}: {e}", path.display())))
}

fn read_text(path: &Path) -> String {
    String::from_utf8(read(path)).unwrap_or_else(|_| stop(&format!("{} is not UTF-8", path.display())))
}

/// `stem.HASH.ext`: a new name whenever the content changes.
fn hashed(constant: &'static str, file: &str, content_type: &'static str, body: Vec<u8>) -> Asset {
    let digest = Sha256::digest(&body);
    let hash: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    let (stem, ext) = file.split_once('.').unwrap_or((file, ""));
    Asset {
        constant,
        name: format!("{stem}.{hash}.{ext}"),
        content_type,
        body,
    }
}

/// The source map is not shipped; the marker shares a line with code in the JS, so cut at
/// the marker rather than dropping the line.
fn strip_source_map(text: &str) -> String {
    for marker in ["//# sourceMappingURL=", "/*# sourceMappingURL="] {
        if let Some(i) = text.rfind(marker) {
            return text[..i].trim_end().to_string();
        }
    }
    text.to_string()
}

fn drop_font_faces(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(i) = rest.find("@font-face") {
        out.push_str(&rest[..i]);
        let end = rest[i..].find('}').map(|j| i + j + 1).unwrap_or(rest.len());
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn rewrite_urls(css: &str, images: &[(String, String)]) -> String {
    let mut css = css.to_string();
    for (original, hashed) in images {
        css = css.replace(&format!("url(/assets/{original})"), &format!("url(/assets/{hashed})"));
    }
    if let Some(i) = css.find("url(/assets/images/") {
        let end = css[i..].find(')').map(|j| i + j).unwrap_or(css.len());
        stop(&format!("the CSS points at an image not embedded: {}", &css[i..end]));
    }
    css
}

fn rewrite_manifest(manifest: &str, images: &[(String, String)]) -> String {
    let mut manifest = manifest.to_string();
    for (original, hashed) in images {
        manifest = manifest.replace(&format!("\"{original}\""), &format!("\"/assets/{hashed}\""));
    }
    if manifest.contains("\"images/") {
        stop("the manifest names an icon not embedded");
    }
    manifest
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(body).expect("gzip in memory");
    encoder.finish().expect("gzip in memory")
}

fn write_assets(dir: &Path, out: &Path, assets: &[Asset]) {
    let mut code = String::from("// Generated by build.rs.\n\npub static FILES: &[Asset] = &[\n");
    let mut constants = String::new();
    for a in assets {
        let path = dir.join(&a.name);
        fs::write(&path, &a.body).expect("write an asset");
        let compressible = !a.content_type.starts_with("image/png") && a.content_type != "image/x-icon";
        let gz = compressible.then(|| gzip(&a.body)).filter(|g| g.len() < a.body.len());
        let gz_code = match gz {
            Some(g) => {
                let gz_path = dir.join(format!("{}.gz", a.name));
                fs::write(&gz_path, g).expect("write a gzip copy");
                format!("Some(include_bytes!({:?}))", gz_path.display().to_string())
            }
            None => "None".to_string(),
        };
        let _ = writeln!(
            code,
            "    Asset {{ name: {:?}, content_type: {:?}, body: include_bytes!({:?}), gzip: {gz_code} }},",
            a.name,
            a.content_type,
            path.display().to_string()
        );
        let _ = writeln!(constants, "pub const {}: &str = \"/assets/{}\";", a.constant, a.name);
    }
    code.push_str("];\n\n");
    code.push_str(&constants);
    fs::write(out.join("assets.rs"), code).expect("write assets.rs");
}
