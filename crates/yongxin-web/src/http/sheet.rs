//! Tables written as spreadsheets (.xlsx or .csv), for every export. CSV is written as UTF-8
//! with a byte-order mark so that Excel opens Chinese correctly.

use rust_xlsxwriter::{Format, Workbook};

/// A spreadsheet format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SheetFormat {
    /// Office Open XML workbook.
    Xlsx,
    /// Comma-separated values, UTF-8 with BOM.
    Csv,
}

impl SheetFormat {
    /// Reads `xlsx` or `csv`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "xlsx" => Some(Self::Xlsx),
            "csv" => Some(Self::Csv),
            _ => None,
        }
    }

    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Xlsx => "xlsx",
            Self::Csv => "csv",
        }
    }

    /// The media type.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Csv => "text/csv; charset=utf-8",
        }
    }
}

/// Writes a table as a file. Every cell is text, so Excel never turns an identity number into
/// scientific notation.
pub fn write_table(table: &[Vec<String>], format: SheetFormat) -> Result<Vec<u8>, String> {
    write_table_at(table, format, None)
}

/// Writes a table as a file, the workbook dated `created` when given (else now): a report kept
/// for a past week gives the same bytes whenever it is written.
pub fn write_table_at(
    table: &[Vec<String>],
    format: SheetFormat,
    created: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<Vec<u8>, String> {
    match format {
        SheetFormat::Csv => {
            let mut out = b"\xEF\xBB\xBF".to_vec();
            {
                let mut w = csv::Writer::from_writer(&mut out);
                for row in table {
                    w.write_record(row).map_err(|e| e.to_string())?;
                }
                w.flush().map_err(|e| e.to_string())?;
            }
            Ok(out)
        }
        SheetFormat::Xlsx => {
            let mut book = Workbook::new();
            if let Some(at) = created {
                use chrono::{Datelike, Timelike};
                let when = rust_xlsxwriter::ExcelDateTime::from_ymd(
                    u16::try_from(at.year()).map_err(|e| e.to_string())?,
                    at.month() as u8,
                    at.day() as u8,
                )
                .and_then(|d| d.and_hms(at.hour() as u16, at.minute() as u8, at.second()))
                .map_err(|e| e.to_string())?;
                book.set_properties(
                    &rust_xlsxwriter::DocProperties::new().set_creation_datetime(&when),
                );
            }
            let sheet = book.add_worksheet();
            let bold = Format::new().set_bold();
            let text = Format::new().set_num_format("@");
            for (r, row) in table.iter().enumerate() {
                for (c, cell) in row.iter().enumerate() {
                    let (r, c) = (r as u32, c as u16);
                    let format = if r == 0 { &bold } else { &text };
                    sheet
                        .write_string_with_format(r, c, cell, format)
                        .map_err(|e| e.to_string())?;
                }
            }
            for c in 0..table.first().map_or(0, Vec::len) {
                let width = table
                    .iter()
                    .map(|r| r.get(c).map_or(0, |s| s.chars().count() * 2))
                    .max()
                    .unwrap_or(8)
                    .clamp(6, 40);
                sheet
                    .set_column_width(c as u16, width as f64)
                    .map_err(|e| e.to_string())?;
            }
            book.save_to_buffer().map_err(|e| e.to_string())
        }
    }
}

/// A table as a downloaded file named `{stem}.{extension}`: what every list's export answers.
pub fn download(
    table: &[Vec<String>],
    format: SheetFormat,
    stem: &str,
) -> Result<axum::response::Response, crate::http::error::AppError> {
    let bytes = write_table(table, format).map_err(crate::http::error::AppError::internal)?;
    Ok(file_response(bytes, format, stem))
}

/// A written file as a download named `{stem}.{extension}`.
pub fn file_response(bytes: Vec<u8>, format: SheetFormat, stem: &str) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    let disposition = format!("attachment; filename=\"{stem}.{}\"", format.extension());
    (
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response()
}

/// The export a list's `format` query asks for: `None` for the page itself; an unknown format is
/// refused rather than shown as the page.
pub fn requested(
    format: Option<&str>,
) -> Result<Option<SheetFormat>, crate::http::error::AppError> {
    match format.map(str::trim).filter(|f| !f.is_empty()) {
        None => Ok(None),
        Some(f) => SheetFormat::parse(f)
            .map(Some)
            .ok_or_else(|| crate::http::error::AppError::invalid_param("format")),
    }
}

/// A table's header row: each key in the reader's language.
pub fn header(c: &crate::http::i18n::Catalog, keys: &[&str]) -> Vec<String> {
    keys.iter().map(|k| c.t(k).to_owned()).collect()
}

/// The header of a list of households to visit (uninformed, unregistered): village, grid, key,
/// head, address; each row is [`household_row`].
pub fn households_header(c: &crate::http::i18n::Catalog) -> Vec<String> {
    header(
        c,
        &[
            "field.village",
            "field.grid",
            "field.household_key",
            "field.head",
            "field.address",
        ],
    )
}

/// A household as a row under [`households_header`], with the head's name as it may be shown.
pub fn household_row(h: yongxin_store::HouseholdSummary, head: String) -> Vec<String> {
    vec![h.village_name, h.grid_name, h.key, head, h.address]
}
