//! Hostile uploads: every import limit holds before the server allocates for it, and the
//! server is still there to answer the next request.

use std::io::Write;

use crate::support::TestApp;

/// A workbook put together part by part, so a test can say what calamine must not trust.
fn workbook(sheet: &[u8]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let parts: [(&str, &[u8]); 5] = [
        (
            "[Content_Types].xml",
            br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            br#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
        ),
        ("xl/worksheets/sheet1.xml", sheet),
    ];
    for (name, bytes) in parts {
        zip.start_file(name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn sheet(rows: &str) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{rows}</sheetData></worksheet>"#
    )
    .into_bytes()
}

fn text_cell(at: &str, text: &str) -> String {
    format!(r#"<c r="{at}" t="inlineStr"><is><t>{text}</t></is></c>"#)
}

#[test]
fn a_hand_made_workbook_imports() {
    let app = TestApp::start();
    let w = app.world();
    let rows = format!(
        r#"<row r="1">{}{}</row><row r="3">{}{}</row>"#,
        text_cell("A1", "门牌号"),
        text_cell("B1", "户主"),
        text_cell("A3", "40号"),
        text_cell("B3", "陆永康"),
    );
    let resp = app.upload(
        &format!("/api/v1/villages/{}/households/import", w.qingle),
        Some(&w.committee),
        "h.xlsx",
        workbook(&sheet(&rows)),
    );
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.body["created"], 1);
}

#[test]
fn uploads_past_the_limits_are_refused_in_words_and_the_server_stays_up() {
    let app = TestApp::start();
    let w = app.world();
    let path = format!("/api/v1/villages/{}/households/import", w.qingle);

    // Two cells, A1 and XFD1048576: a dense reading would be 17 billion cells. Once with
    // the sheet's declared dimension (as Excel writes it), once with cells alone.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet_one = book.add_worksheet();
    sheet_one.write_string(0, 0, "门牌号").unwrap();
    sheet_one.write_string(1_048_575, 16_383, "x").unwrap();
    let declared = book.save_to_buffer().unwrap();
    assert!(declared.len() < 10_000, "{} bytes", declared.len());
    let cells_only = workbook(&sheet(&format!(
        r#"<row r="1">{}</row><row r="1048576">{}</row>"#,
        text_cell("A1", "门牌号"),
        text_cell("XFD1048576", "x")
    )));
    let far_column = workbook(&sheet(&format!(
        r#"<row r="1">{}{}</row>"#,
        text_cell("A1", "门牌号"),
        text_cell("XFD1", "x")
    )));
    let far_row = workbook(&sheet(&format!(
        r#"<row r="1">{}</row><row r="20000">{}</row>"#,
        text_cell("A1", "门牌号"),
        text_cell("A20000", "x")
    )));
    // A zip bomb: 64 MB of XML whitespace packed into a few dozen kilobytes.
    let padding = " ".repeat(64 * 1024 * 1024);
    let bomb = workbook(&sheet(&format!(
        r#"<row r="1">{}</row>{padding}"#,
        text_cell("A1", "门牌号")
    )));
    assert!(bomb.len() < 200_000, "{} bytes", bomb.len());
    // A million rows in 2 MB, under the upload limit.
    let million = format!("门牌号\n{}", "1\n".repeat(1_000_000));
    let wide_csv = format!("{}\n", vec!["列"; 65].join(","));

    for (name, bytes, limit) in [
        ("declared.xlsx", declared.clone(), "10000"),
        ("cells.xlsx", cells_only, "10000"),
        ("far-column.xlsx", far_column, "64"),
        ("far.xlsx", far_row, "10000"),
        ("bomb.xlsx", bomb, "20 MB"),
        ("million.csv", million.into_bytes(), "10000"),
        ("wide.csv", wide_csv.into_bytes(), "64"),
    ] {
        let resp = app.upload(&path, Some(&w.committee), name, bytes);
        assert_eq!(
            (resp.status, resp.fields()),
            (422, vec!["file".to_owned()]),
            "{name}: {}",
            resp.text
        );
        let message = resp.body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(limit), "{name}: {message}");
    }
    assert_eq!(app.get("/healthz", None).status, 200);
    let checklist = app.upload(
        &format!("/api/v1/villages/{}/checklist/import", w.qingle),
        Some(&w.committee),
        "declared.xlsx",
        declared,
    );
    assert_eq!(
        checklist.status, 422,
        "the checklist import has the same limits"
    );
    let households = app.get(
        &format!("/api/v1/villages/{}/households", w.qingle),
        Some(&w.committee),
    );
    assert_eq!(
        households.body["items"].as_array().unwrap().len(),
        3,
        "nothing was imported"
    );
}

/// The cell's text in a workbook's sheet, as calamine reads it.
fn first_row(bytes: &[u8]) -> (Vec<String>, Vec<String>) {
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let names = book.sheet_names();
    let range = book.worksheet_range(&names[0]).unwrap();
    let header = range
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    (names, header)
}

#[test]
fn the_desk_offers_templates_and_reads_sheets_as_committees_keep_them() {
    let app = TestApp::start();
    let w = app.world();
    let template = app.get(
        &format!("/api/v1/villages/{}/households/import/template", w.qingle),
        Some(&w.committee),
    );
    assert_eq!(template.status, 200, "{}", template.text);
    let disposition = template.headers["content-disposition"].to_str().unwrap();
    assert!(disposition.contains("filename*=UTF-8''"), "{disposition}");
    let (sheets, header) = first_row(&template.bytes);
    assert_eq!(sheets, ["导入", "填写说明"]);
    assert_eq!(header, ["门牌号", "户主", "小组", "电话", "成员"]);
    // The 小组 drop-down offers the village's own groups and only warns, so a new one can
    // still be typed.
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(template.bytes.clone())).unwrap();
    let mut sheet = String::new();
    std::io::Read::read_to_string(
        &mut zip.by_name("xl/worksheets/sheet1.xml").unwrap(),
        &mut sheet,
    )
    .unwrap();
    assert!(
        sheet.contains("第一村民小组") && sheet.contains(r#"errorStyle="warning""#),
        "{sheet}"
    );
    let checklist = app.get(
        &format!("/api/v1/villages/{}/checklist/import/template", w.qingle),
        Some(&w.committee),
    );
    assert_eq!(checklist.status, 200, "{}", checklist.text);
    assert_eq!(
        first_row(&checklist.bytes).1[..6],
        ["编号", "类别", "事项", "说明", "分值", "周期"]
    );
    let supervisor = app.token("qingle-supervisor");
    let path = format!("/api/v1/villages/{}/households/import/template", w.qingle);
    assert_eq!(app.get(&path, Some(&supervisor)).status, 403);

    // A sheet as a committee keeps it: a merged title row, numbers typed as numbers, a
    // blank row and the signatures below.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let plain = rust_xlsxwriter::Format::new();
    sheet
        .merge_range(0, 0, 0, 4, "庆乐村农户花名册（2026年11月）", &plain)
        .unwrap();
    for (col, name) in ["门牌号", "户主", "村民小组", "联系电话", "成员"]
        .iter()
        .enumerate()
    {
        sheet.write_string(1, col as u16, *name).unwrap();
    }
    sheet.write_number(2, 0, 41.0).unwrap();
    sheet.write_string(2, 1, "陆永康").unwrap();
    sheet.write_string(2, 2, "第一村民小组").unwrap();
    sheet.write_number(2, 3, 10017710041.0).unwrap();
    sheet.write_string(3, 0, "42号").unwrap();
    sheet.write_string(3, 1, "蒙秀英").unwrap();
    sheet.write_string(3, 4, "韦小龙、韦春梅").unwrap();
    sheet.write_string(5, 0, "制表人：陈志强").unwrap();
    sheet.write_string(5, 3, "审核：刘桂芳").unwrap();
    sheet.write_string(7, 0, "2026年11月30日").unwrap();
    let import = format!("/api/v1/villages/{}/households/import", w.qingle);
    let resp = app.upload(
        &import,
        Some(&w.committee),
        "花名册.xlsx",
        book.save_to_buffer().unwrap(),
    );
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(
        (resp.body["created"].as_i64(), resp.body["updated"].as_i64()),
        (Some(2), Some(0))
    );
    let found = app.get(
        &format!("/api/v1/villages/{}/households?q=41", w.qingle),
        Some(&w.committee),
    );
    let household = &found.body["items"][0];
    assert_eq!(household["door_no"], "41", "{}", found.text);
    assert_eq!(
        household["phone"], "10017710041",
        "a number stays a phone number"
    );
    assert_eq!(household["group_id"], w.qingle_group1);

    // The desk's own register export, title block and all, imports back unchanged.
    let export = app.get(
        &format!("/api/v1/villages/{}/households/export", w.qingle),
        Some(&w.committee),
    );
    let back = app.upload(&import, Some(&w.committee), "名册.xlsx", export.bytes);
    assert_eq!(back.status, 200, "{}", back.text);
    assert_eq!(back.body["created"], 0, "{}", back.text);
    assert!(back.body["updated"].as_i64().unwrap() >= 5, "{}", back.text);
}

#[test]
fn an_upload_with_a_part_besides_the_file_is_refused_and_changes_nothing() {
    use reqwest::blocking::multipart::{Form, Part};
    let app = TestApp::start();
    let w = app.world();
    let path = format!("/api/v1/villages/{}/households/import", w.qingle);
    for (extra, field) in [("", "file"), ("note", "note")] {
        let sheet =
            Part::bytes("门牌号,户主\n77号,韦福生\n".as_bytes().to_vec()).file_name("h.csv");
        let form = Form::new().part("file", sheet).text(extra, "null");
        let resp = reqwest::blocking::Client::new()
            .post(app.url(&path))
            .bearer_auth(&w.committee)
            .multipart(form)
            .send()
            .unwrap();
        assert_eq!(resp.status(), 422);
        let body: serde_json::Value = resp.json().unwrap();
        assert_eq!(body["errors"][0]["field"], field, "{body}");
    }
    let found = app.get(
        &format!("/api/v1/villages/{}/households?q=77", w.qingle),
        Some(&w.committee),
    );
    assert_eq!(found.body["items"].as_array().map(Vec::len), Some(0));
}

#[test]
fn a_village_with_too_many_groups_for_a_drop_down_still_gets_its_template() {
    let app = TestApp::start();
    let w = app.world();
    for n in 0..12 {
        let group = app.post(
            &format!("/api/v1/villages/{}/groups", w.qingle),
            Some(&w.committee),
            serde_json::json!({"name": format!("第{n}村民小组，那一个很长很长很长很长的名字")}),
        );
        assert_eq!(group.status, 201, "{}", group.text);
    }
    let template = app.get(
        &format!("/api/v1/villages/{}/households/import/template", w.qingle),
        Some(&w.committee),
    );
    assert_eq!(template.status, 200, "{}", template.text);
    assert_eq!(first_row(&template.bytes).1[0], "门牌号");
}
