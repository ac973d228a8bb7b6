//! The printed sheet of door plates: A4, 70 × 90 mm plates (a common weatherproof
//! sticker), six to a page.

use askama::Template;

use super::model::PrintedPlate;

#[derive(Template)]
#[template(path = "plates/sheet.html", config = "src/web/askama.toml")]
struct Sheet<'a> {
    css: &'static str,
    js: &'static str,
    plates: &'a [PrintedPlate],
}

pub fn html(plates: &[PrintedPlate]) -> String {
    let sheet = Sheet {
        css: crate::assets::css_path(),
        js: crate::assets::js_path(),
        plates,
    };
    sheet.render().unwrap_or_else(|err| {
        tracing::error!(error = %err, "plate sheet template failed");
        "<!doctype html><meta charset=utf-8><p>门牌码没能生成，请稍后再试。</p>".to_owned()
    })
}
