//! Reads an uploaded table (CSV in UTF-8 with or without BOM, or the first sheet of an
//! XLSX workbook, told apart by content) into rows of text.
//!
//! Every limit is checked while reading, before anything grows with what the file claims:
//! an XLSX is measured entry by entry (declared and actual sizes) before calamine opens
//! it, its sheet is read cell by cell (never as a dense range, whose size a 5 KB file can
//! make astronomical), and a CSV stops at the first row past the limit.

use std::io::{Cursor, Read};

use calamine::{Data, DataType, Reader, Xlsx};

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

impl Table {
    pub fn read(bytes: &[u8]) -> Result<Table, AppError> {
        let mut all = if bytes.starts_with(ZIP_MAGIC) {
            read_xlsx(bytes)?
        } else {
            read_csv(bytes)?
        }
        .0;
        all.retain(|(_, row)| row.iter().any(|c| !c.trim().is_empty()));
        if all.is_empty() {
            return Err(AppError::field("file", "文件是空的，第一行须是表头"));
        }
        let (_, headers) = all.remove(0);
        let headers: Vec<String> = headers.into_iter().map(|h| h.trim().to_owned()).collect();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_bom_and_chinese_headers() {
        let table = Table::read("\u{feff}门牌号,户主\n1号,张三\n\n2号,李四\n".as_bytes()).unwrap();
        assert_eq!(table.column(&["door_no", "门牌号"]), Some(0));
        assert_eq!(table.rows.len(), 2);
        assert_eq!(
            table.rows[1].0, 4,
            "the row number as the spreadsheet shows it"
        );
        assert_eq!(cell(&table.rows[1].1, Some(1)), Some("李四"));
    }

    #[test]
    fn empty_file_is_an_error() {
        assert!(Table::read(b"").is_err());
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
        assert_eq!(Table::read(rows.as_bytes()).unwrap().rows.len(), MAX_ROWS);
        rows.push_str("再多一行\n");
        assert!(message(Table::read(rows.as_bytes()).unwrap_err()).contains("10000"));
        let wide = format!("{}\n", vec!["x"; MAX_COLUMNS + 1].join(","));
        assert!(message(Table::read(wide.as_bytes()).unwrap_err()).contains("64"));
    }
}
