//! Reads an uploaded table (CSV in UTF-8 with or without BOM, or the first sheet of an
//! XLSX workbook, told apart by content) into rows of text.
//!
//! Every limit is checked while reading, before anything grows with what the file claims:
//! an XLSX is measured entry by entry (declared and actual sizes) before calamine opens
//! it, its sheet is read cell by cell (never as a dense range, whose size a 5 KB file can
//! make astronomical), and a CSV stops at the first row past the limit.

use std::io::{Cursor, Read};

use calamine::{Data, DataType, Reader, Xlsx};
use rust_xlsxwriter::{DataValidation, DataValidationErrorStyle, Format, Workbook, XlsxError};

use crate::error::{AppError, FieldError};

#[derive(Debug)]
pub struct Table {
    headers: Vec<String>,
    /// Data rows with their spreadsheet row number (the header is row 1).
    pub rows: Vec<(usize, Vec<String>)>,
}

/// Data rows one import may hold.
pub const MAX_ROWS: usize = 10_000;
/// Columns one import may use.
pub const MAX_COLUMNS: usize = 64;
/// What an XLSX may unpack to, all its parts together.
pub const MAX_UNPACKED: u64 = 20 * 1024 * 1024;
/// Parts an XLSX may have (a real workbook has a dozen or two).
const MAX_PARTS: usize = 1_000;

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

fn too_many_rows() -> AppError {
    AppError::field("file", format!("一次最多导入 {MAX_ROWS} 行数据"))
}

fn too_many_columns() -> AppError {
    AppError::field("file", format!("表格最多 {MAX_COLUMNS} 列"))
}

fn too_large_unpacked() -> AppError {
    AppError::field(
        "file",
        "这个 Excel 文件解压后超过 20 MB，请只保留要导入的表",
    )
}

/// The rows of a sheet as they are read: non-blank rows with their 1-based row number.
#[derive(Default)]
struct Rows(Vec<(usize, Vec<String>)>);

impl Rows {
    /// Places a non-blank cell, refusing positions past the limits before growing.
    fn put(&mut self, row: usize, column: usize, text: String) -> Result<(), AppError> {
        if row > MAX_ROWS + 1 {
            return Err(too_many_rows());
        }
        if column >= MAX_COLUMNS {
            return Err(too_many_columns());
        }
        if self.0.last().is_none_or(|(r, _)| *r != row) {
            self.0.push((row, Vec::new()));
        }
        if let Some((_, cells)) = self.0.last_mut() {
            if cells.len() <= column {
                cells.resize(column + 1, String::new());
            }
            cells[column] = text;
        }
        Ok(())
    }
}

/// How the first cell of a line under a committee's table begins when it is a total, a
/// note or a signature block rather than data (合计, 制表人：…, 村委会（盖章）, 注：…; "共 N
/// 户" ends the desk's own exports).
const NOTE_MARKS: &[&str] = &[
    "合计",
    "总计",
    "共计",
    "共 ",
    "制表",
    "填表",
    "审核",
    "核对",
    "签字",
    "签名",
    "盖章",
    "备注",
    "注：",
    "注:",
    "说明",
    "日期",
    "负责人",
    "经办",
    "村委会（",
    "村委会(",
    "村民委员会",
];

impl Table {
    /// Reads a table as committees keep it: the header is the first row naming one of
    /// `header_names` (so a merged title row above it is passed over, and with none the
    /// first row is the header); data ends at a note or signature line below it.
    pub fn read(bytes: &[u8], header_names: &[&str]) -> Result<Table, AppError> {
        let mut all = if bytes.starts_with(ZIP_MAGIC) {
            read_xlsx(bytes)?
        } else {
            read_csv(bytes)?
        }
        .0;
        all.retain(|(_, row)| row.iter().any(|c| !c.trim().is_empty()));
        let names_header = |cells: &Vec<String>| {
            cells.iter().any(|c| {
                header_names
                    .iter()
                    .any(|n| c.trim().eq_ignore_ascii_case(n))
            })
        };
        let at = all
            .iter()
            .position(|(_, cells)| names_header(cells))
            .unwrap_or(0);
        if at >= all.len() {
            return Err(AppError::field("file", "文件是空的，第一行须是表头"));
        }
        let (_, headers) = all.drain(..=at).next_back().unwrap_or_default();
        let headers: Vec<String> = headers.into_iter().map(|h| h.trim().to_owned()).collect();
        all.truncate(data_end(&all));
        refuse_controls(&headers, &all)?;
        Ok(Table { headers, rows: all })
    }

    /// Index of the first column named by any of `names` (English or Chinese).
    pub fn column(&self, names: &[&str]) -> Option<usize> {
        self.headers
            .iter()
            .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
    }

    /// Like [`Table::column`], but a missing column is an error naming it.
    pub fn required(&self, names: &[&str]) -> Result<usize, FieldError> {
        self.column(names)
            .ok_or_else(|| FieldError::new("file", format!("缺少“{}”列", names.join("/"))))
    }
}

/// Where the data under the header ends: at the first note or signature line, which
/// begins with a note mark, or stands alone in its row after a blank row.
fn data_end(rows: &[(usize, Vec<String>)]) -> usize {
    let mut previous = None;
    for (index, (row, cells)) in rows.iter().enumerate() {
        let filled: Vec<&str> = cells
            .iter()
            .map(|c| c.trim())
            .filter(|c| !c.is_empty())
            .collect();
        let after_gap = previous.is_some_and(|p: usize| *row > p + 1);
        let marked = filled
            .first()
            .is_some_and(|first| NOTE_MARKS.iter().any(|m| first.starts_with(m)));
        if marked || (after_gap && filled.len() == 1) {
            return index;
        }
        previous = Some(*row);
    }
    rows.len()
}

/// Cells holding control characters (see [`crate::text`]), each named `row N: column`.
fn refuse_controls(headers: &[String], rows: &[(usize, Vec<String>)]) -> Result<(), AppError> {
    let header_bad = headers
        .iter()
        .any(|h| h.chars().any(crate::text::forbidden));
    let mut problems: Vec<FieldError> = rows
        .iter()
        .flat_map(|(row, cells)| {
            cells
                .iter()
                .enumerate()
                .filter(|(_, text)| text.chars().any(crate::text::forbidden))
                .map(move |(column, _)| {
                    let name = headers.get(column).map_or("?", String::as_str);
                    FieldError::new(format!("row {row}: {name}"), crate::text::FORBIDDEN_MESSAGE)
                })
        })
        .collect();
    if header_bad {
        problems.insert(0, FieldError::new("row 1", crate::text::FORBIDDEN_MESSAGE));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(problems))
    }
}

/// The trimmed cell, or `None` when the column is absent or the cell blank.
pub fn cell(row: &[String], column: Option<usize>) -> Option<&str> {
    column
        .and_then(|c| row.get(c))
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
}

fn read_csv(bytes: &[u8]) -> Result<Rows, AppError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut rows = Rows::default();
    let mut record = csv::StringRecord::new();
    let mut lines = LineCounter::default();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => return Ok(rows),
            Ok(true) => {}
            Err(_) => {
                let at = lines.line_at(bytes, reader.position().byte());
                return Err(AppError::field(
                    format!("row {at}"),
                    "无法读取：请用 UTF-8 编码的 CSV 或 Excel (.xlsx) 文件",
                ));
            }
        }
        let start = record.position().map_or(0, csv::Position::byte);
        let row = lines.line_at(bytes, start);
        for (column, text) in record.iter().enumerate() {
            if !text.trim().is_empty() {
                rows.put(row, column, text.to_owned())?;
            }
        }
    }
}

/// The line a record starts on, as an editor shows it: csv counts the blank lines before
/// a record as part of it, so they are skipped here, counting newlines as it goes.
#[derive(Default)]
struct LineCounter {
    offset: usize,
    newlines: usize,
}

impl LineCounter {
    fn line_at(&mut self, bytes: &[u8], start: u64) -> usize {
        let mut start = usize::try_from(start)
            .unwrap_or(bytes.len())
            .min(bytes.len());
        while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        if start >= self.offset {
            self.newlines += bytes[self.offset..start]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
            self.offset = start;
        }
        self.newlines + 1
    }
}

fn unreadable_xlsx() -> AppError {
    AppError::field("file", "无法读取这个 Excel 文件")
}

/// Unpacks every part of the archive into nothing, counting: what the headers declare and
/// what the parts really hold must both stay within [`MAX_UNPACKED`].
fn measure_zip(bytes: &[u8]) -> Result<(), AppError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| unreadable_xlsx())?;
    if archive.len() > MAX_PARTS {
        return Err(too_large_unpacked());
    }
    let (mut declared, mut unpacked) = (0u64, 0u64);
    for index in 0..archive.len() {
        let part = archive.by_index(index).map_err(|_| unreadable_xlsx())?;
        declared = declared.saturating_add(part.size());
        if declared > MAX_UNPACKED {
            return Err(too_large_unpacked());
        }
        let budget = MAX_UNPACKED - unpacked;
        unpacked += std::io::copy(&mut part.take(budget + 1), &mut std::io::sink())
            .map_err(|_| unreadable_xlsx())?;
        if unpacked > MAX_UNPACKED {
            return Err(too_large_unpacked());
        }
    }
    Ok(())
}

fn read_xlsx(bytes: &[u8]) -> Result<Rows, AppError> {
    measure_zip(bytes)?;
    let mut workbook = Xlsx::new(Cursor::new(bytes)).map_err(|_| unreadable_xlsx())?;
    let first = workbook
        .sheet_names()
        .into_iter()
        .next()
        .ok_or_else(unreadable_xlsx)?;
    let mut cells = workbook
        .worksheet_cells_reader(&first)
        .map_err(|_| unreadable_xlsx())?;
    // The sheet's own claim of its extent counts too.
    let declared = cells.dimensions();
    if declared.end.0 as usize > MAX_ROWS {
        return Err(too_many_rows());
    }
    if declared.end.1 as usize >= MAX_COLUMNS {
        return Err(too_many_columns());
    }
    let mut rows = Rows::default();
    while let Some(cell) = cells.next_cell().map_err(|_| unreadable_xlsx())? {
        if cell.get_value().is_empty() {
            continue;
        }
        let (row, column) = cell.get_position();
        let text = Data::from(cell.get_value().clone()).to_string();
        rows.put(row as usize + 1, column as usize, text)?;
    }
    Ok(rows)
}

/// One column of an import template: its header, how to fill it, an example, whether
/// Excel must keep it as text (door and phone numbers), and the values it may take.
pub struct TemplateColumn {
    pub name: &'static str,
    pub help: &'static str,
    pub example: &'static str,
    pub text: bool,
    pub choices: Vec<String>,
}

/// Rows a template's drop-down lists and text formats cover.
const TEMPLATE_ROWS: u32 = 2_000;

/// The column's drop-down list, if it has values and Excel can hold them (a list's
/// text is at most 255 characters; a village with many or long group names gets none).
fn drop_down(c: &TemplateColumn) -> Option<DataValidation> {
    if c.choices.is_empty() {
        return None;
    }
    let list = DataValidation::new()
        .allow_list_strings(&c.choices)
        .ok()?
        .set_input_message(c.help)
        .ok()?
        .set_error_message(format!("下拉列表里有：{}", c.choices.join("、")))
        .ok()?
        // A warning, not a refusal: a new 小组 may be typed; the import itself refuses a
        // wrong 周期 in words.
        .set_error_style(DataValidationErrorStyle::Warning);
    Some(list)
}

/// An empty import sheet as a committee fills it in Excel: the header row, frozen, with
/// widths for Chinese text, text columns kept as text, drop-down lists where the values
/// are fixed, and a second sheet "填写说明" with each column's rule and an example. The
/// import reads only the first sheet.
pub fn template(title: &str, columns: &[TemplateColumn]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let header = Format::new()
        .set_bold()
        .set_background_color(rust_xlsxwriter::Color::RGB(0x00DD_EBF7));
    let text = Format::new().set_num_format("@");
    let sheet = book.add_worksheet();
    sheet.set_name(title)?;
    for (col, c) in (0u16..).zip(columns) {
        sheet.write_string_with_format(0, col, c.name, &header)?;
        sheet.set_column_width(col, 16)?;
        if c.text {
            sheet.set_column_format(col, &text)?;
        }
        if let Some(list) = drop_down(c) {
            sheet.add_data_validation(1, col, TEMPLATE_ROWS, col, &list)?;
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    let guide = book.add_worksheet();
    guide.set_name("填写说明")?;
    for (col, name) in (0u16..).zip(["列名", "怎么填", "例子"]) {
        guide.write_string_with_format(0, col, name, &header)?;
    }
    for (row, c) in (1u32..).zip(columns) {
        guide.write_string(row, 0, c.name)?;
        guide.write_string(row, 1, c.help)?;
        guide.write_string(row, 2, c.example)?;
    }
    let last = columns.len() as u32 + 2;
    guide.write_string(
        last,
        0,
        "在第一张表里从第二行起一行填一项。表头上面可以有标题行，表格下面可以写制表人、日期；导入时会跳过。",
    )?;
    guide.set_column_width(0, 12)?;
    guide.set_column_width(1, 60)?;
    guide.set_column_width(2, 30)?;
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_bom_and_chinese_headers() {
        let table = Table::read(
            "\u{feff}门牌号,户主\n1号,张三\n\n2号,李四\n".as_bytes(),
            DOOR,
        )
        .unwrap();
        assert_eq!(table.column(&["door_no", "门牌号"]), Some(0));
        assert_eq!(table.rows.len(), 2);
        assert_eq!(
            table.rows[1].0, 4,
            "the row number as the spreadsheet shows it"
        );
        assert_eq!(cell(&table.rows[1].1, Some(1)), Some("李四"));
    }

    const DOOR: &[&str] = &["门牌号"];

    #[test]
    fn a_title_row_above_and_a_signed_note_below_are_not_data() {
        let sheet = "那洪村农户花名册（2026年）,,\n门牌号,户主,电话\n1号,韦福生,10017710001\n2号,覃秀英,\n,,\n制表人：韦志强,,审核：蓝桂芳\n\n2026年11月30日,,\n";
        let table = Table::read(sheet.as_bytes(), DOOR).unwrap();
        assert_eq!(table.column(&["户主"]), Some(1));
        let rows: Vec<usize> = table.rows.iter().map(|(row, _)| *row).collect();
        assert_eq!(rows, [3, 4], "the spreadsheet's own row numbers");
        let dated = "门牌号,户主\n1号,韦福生\n\n2026年11月30日\n";
        assert_eq!(Table::read(dated.as_bytes(), DOOR).unwrap().rows.len(), 1);
    }

    #[test]
    fn empty_file_is_an_error() {
        assert!(Table::read(b"", DOOR).is_err());
    }

    fn message(err: AppError) -> String {
        match err {
            AppError::Validation(list) => list[0].message.clone(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn csv_limits_stop_the_reading() {
        let mut rows = String::from("门牌号\n");
        for i in 0..MAX_ROWS {
            rows.push_str(&format!("{i}号\n"));
        }
        assert_eq!(
            Table::read(rows.as_bytes(), DOOR).unwrap().rows.len(),
            MAX_ROWS
        );
        rows.push_str("再多一行\n");
        assert!(message(Table::read(rows.as_bytes(), DOOR).unwrap_err()).contains("10000"));
        let wide = format!("{}\n", vec!["x"; MAX_COLUMNS + 1].join(","));
        assert!(message(Table::read(wide.as_bytes(), DOOR).unwrap_err()).contains("64"));
    }
}
