//! Reads an uploaded table (CSV in UTF-8 with or without BOM, or the first sheet of an
//! XLSX workbook, told apart by content) into rows of text.

use std::io::Cursor;

use calamine::{Reader, Xlsx};

use crate::error::{AppError, FieldError};

pub struct Table {
    headers: Vec<String>,
    /// Data rows with their spreadsheet row number (the header is row 1).
    pub rows: Vec<(usize, Vec<String>)>,
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const MAX_ROWS: usize = 10_000;

impl Table {
    pub fn read(bytes: &[u8]) -> Result<Table, AppError> {
        let mut all = if bytes.starts_with(ZIP_MAGIC) {
            read_xlsx(bytes)?
        } else {
            read_csv(bytes)?
        };
        all.retain(|row| row.iter().any(|c| !c.trim().is_empty()));
        if all.is_empty() {
            return Err(AppError::field("file", "文件是空的，第一行须是表头"));
        }
        if all.len() > MAX_ROWS + 1 {
            return Err(AppError::field("file", "一次最多导入 10000 行"));
        }
        let headers = all
            .remove(0)
            .into_iter()
            .map(|h| h.trim().to_owned())
            .collect();
        let rows = all
            .into_iter()
            .enumerate()
            .map(|(i, r)| (i + 2, r))
            .collect();
        Ok(Table { headers, rows })
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

/// The trimmed cell, or `None` when the column is absent or the cell blank.
pub fn cell(row: &[String], column: Option<usize>) -> Option<&str> {
    column
        .and_then(|c| row.get(c))
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
}

fn read_csv(bytes: &[u8]) -> Result<Vec<Vec<String>>, AppError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|_| {
            AppError::field(
                format!("row {}", index + 1),
                "无法读取：请用 UTF-8 编码的 CSV 或 Excel (.xlsx) 文件",
            )
        })?;
        rows.push(record.iter().map(str::to_owned).collect());
    }
    Ok(rows)
}

fn read_xlsx(bytes: &[u8]) -> Result<Vec<Vec<String>>, AppError> {
    let unreadable = || AppError::field("file", "无法读取这个 Excel 文件");
    let mut workbook = Xlsx::new(Cursor::new(bytes)).map_err(|_| unreadable())?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or_else(unreadable)?
        .map_err(|_| unreadable())?;
    Ok(range
        .rows()
        .map(|row| row.iter().map(ToString::to_string).collect())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_bom_and_chinese_headers() {
        let table = Table::read("\u{feff}门牌号,户主\n1号,张三\n\n2号,李四\n".as_bytes()).unwrap();
        assert_eq!(table.column(&["door_no", "门牌号"]), Some(0));
        assert_eq!(table.rows.len(), 2);
        assert_eq!(table.rows[1].0, 3);
        assert_eq!(cell(&table.rows[1].1, Some(1)), Some("李四"));
    }

    #[test]
    fn empty_file_is_an_error() {
        assert!(Table::read(b"").is_err());
    }
}
