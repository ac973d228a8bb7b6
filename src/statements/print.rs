//! The printed statement (积分证明): A4, black on white, with the QR of its check address,
//! the public key and the signature, so a bank can check it by phone or by program.

use askama::Template;

use super::model::{IssuedStatement, StatementDocument};
use crate::reports::model::{star_line, star_title};

#[derive(Template)]
#[template(path = "statements/print.html", config = "src/web/askama.toml")]
struct Printed<'a> {
    css: &'static str,
    js: &'static str,
    doc: &'a StatementDocument,
    signature: &'a str,
    public_key: &'a str,
    qr_svg: String,
    issued_on: String,
    expires_on: String,
    star_line: String,
    star_title: Option<String>,
    /// Where "返回" goes: the desk's household page, or the villager's home.
    back: &'a str,
}

pub fn html(
    statement: &IssuedStatement,
    doc: &StatementDocument,
    public_key: &str,
    back: &str,
) -> String {
    let page = Printed {
        css: crate::assets::css_path(),
        js: crate::assets::js_path(),
        doc,
        signature: &statement.signature,
        public_key,
        qr_svg: crate::shop::code::qr_svg_inline(&doc.verify_url).unwrap_or_default(),
        issued_on: crate::date::in_words(doc.issued_at.date_naive()),
        expires_on: crate::date::in_words(doc.expires_at.date_naive()),
        star_line: star_line(doc.stars as usize, doc.star_levels as usize),
        star_title: star_title(doc.stars as usize),
        back,
    };
    page.render().unwrap_or_else(|err| {
        tracing::error!(error = %err, "statement template failed");
        "<!doctype html><meta charset=utf-8><p>积分证明没能生成，请稍后再试。</p>".to_owned()
    })
}
