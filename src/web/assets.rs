//! The embedded CSS, JavaScript and icons (see build.rs): served under content-hashed
//! names, so a browser may keep each for a year and a new build is fetched afresh.
//!
//! Rules:
//! - Only files built into the binary are served; any other name is 404.
//! - `Cache-Control: public, max-age=31536000, immutable`; a gzip copy when the client
//!   accepts it (`Vary: Accept-Encoding`).
//! - `/favicon.ico`, which browsers ask for on their own, redirects to the hashed icon.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};

/// One embedded file.
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
    pub gzip: Option<&'static [u8]>,
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

const FOREVER: &str = "public, max-age=31536000, immutable";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/assets/{name}")
            .route(web::get().to(asset))
            .route(web::head().to(asset)),
    )
    .service(
        web::resource("/favicon.ico")
            .route(web::get().to(favicon))
            .route(web::head().to(favicon)),
    );
}

pub fn find(name: &str) -> Option<&'static Asset> {
    FILES.iter().find(|a| a.name == name)
}

async fn asset(req: HttpRequest, name: web::Path<String>) -> HttpResponse {
    let Some(a) = find(&name) else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("not found");
    };
    let gzip = a.gzip.filter(|_| accepts_gzip(&req));
    let mut response = HttpResponse::Ok();
    response
        .content_type(a.content_type)
        .insert_header((header::CACHE_CONTROL, FOREVER))
        .insert_header((header::VARY, "Accept-Encoding"));
    match gzip {
        Some(body) => response
            // Already compressed: the Compress middleware leaves an encoded body alone.
            .insert_header((header::CONTENT_ENCODING, HeaderValue::from_static("gzip")))
            .body(body),
        None => response.body(a.body),
    }
}

async fn favicon() -> HttpResponse {
    HttpResponse::MovedPermanently()
        .insert_header((header::LOCATION, FAVICON_ICO))
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .finish()
}

fn accepts_gzip(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                matches!(
                    p.trim().replace(' ', "").as_str(),
                    "q=0" | "q=0.0" | "q=0.00" | "q=0.000"
                )
            });
            name.eq_ignore_ascii_case("gzip") && !refused
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_url_constant_names_an_embedded_file() {
        for url in [
            CSS,
            JS,
            NHSUK_JS,
            JS_ENABLED,
            MANIFEST,
            FAVICON_ICO,
            FAVICON_SVG,
            MASK_ICON,
            APPLE_TOUCH_ICON,
        ] {
            let name = url.strip_prefix("/assets/").expect("under /assets/");
            assert!(find(name).is_some(), "{url} is embedded");
        }
    }

    #[test]
    fn css_loads_no_font_from_elsewhere_and_points_at_embedded_images() {
        let css = std::str::from_utf8(find(&CSS["/assets/".len()..]).unwrap().body).unwrap();
        assert!(
            !css.contains("@font-face"),
            "no web fonts (the CSP allows none from elsewhere)"
        );
        assert!(!css.contains("https://"), "nothing from another origin");
        assert!(!css.contains("sourceMappingURL"), "no source map reference");
        let mut rest = css;
        let mut images = 0;
        while let Some(i) = rest.find("url(/assets/") {
            let tail = &rest[i + "url(/assets/".len()..];
            let name = &tail[..tail.find(')').unwrap()];
            assert!(find(name).is_some(), "{name} is embedded");
            images += 1;
            rest = tail;
        }
        assert!(images >= 4, "the CSS's icons are rewritten to hashed names");
    }

    #[test]
    fn init_module_imports_the_hashed_frontend_and_starts_it() {
        let init = std::str::from_utf8(find(&JS["/assets/".len()..]).unwrap().body).unwrap();
        assert!(init.contains(NHSUK_JS), "{init}");
        assert!(init.contains("initAll()"), "{init}");
    }

    #[test]
    fn names_change_with_content() {
        let names: Vec<&str> = FILES.iter().map(|a| a.name).collect();
        assert!(
            names.iter().all(|n| n.split('.').count() >= 3),
            "stem.hash.ext: {names:?}"
        );
    }

    #[test]
    fn gzip_is_offered_only_when_accepted() {
        let with = |v: &str| {
            let req = actix_web::test::TestRequest::default()
                .insert_header((header::ACCEPT_ENCODING, v))
                .to_http_request();
            accepts_gzip(&req)
        };
        assert!(with("gzip, deflate, br"));
        assert!(with("br;q=1.0, GZIP;q=0.5"));
        assert!(!with("gzip;q=0"));
        assert!(!with("br, identity"));
    }
}
