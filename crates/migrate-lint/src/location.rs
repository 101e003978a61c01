//! Turning byte offsets and statement starts into 1-based file lines and columns.

/// The start of every line of a text, for offset-to-position look-ups.
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes `text`'s line starts.
    pub(crate) fn new(text: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(at, _)| at + 1));
        LineIndex { text, starts }
    }

    /// The 1-based line and column (in characters) of a byte offset.
    pub(crate) fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line_idx = self.starts.partition_point(|&start| start <= offset).saturating_sub(1);
        let line_start = self.starts.get(line_idx).copied().unwrap_or(0);
        let column = self.text.get(line_start..offset).map_or(0, |prefix| prefix.chars().count());
        (line_idx + 1, column + 1)
    }

    /// The text of a 1-based line, without its line ending.
    pub(crate) fn line_text(&self, line: usize) -> &'a str {
        let Some(&start) = self.starts.get(line.wrapping_sub(1)) else { return "" };
        let end = self.starts.get(line).map_or(self.text.len(), |&next| next - 1);
        self.text.get(start..end).unwrap_or("").trim_end_matches('\r')
    }

    /// The byte offset where a 1-based line starts.
    pub(crate) fn line_start(&self, line: usize) -> Option<usize> {
        self.starts.get(line.wrapping_sub(1)).copied()
    }

    /// The column of the first non-blank character of a line: where a statement starting there begins.
    pub(crate) fn first_column(&self, line: usize) -> usize {
        let text = self.line_text(line);
        text.chars().take_while(|c| c.is_whitespace()).count() + 1
    }

    /// The number of lines.
    pub(crate) fn line_count(&self) -> usize {
        self.starts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::LineIndex;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let index = LineIndex::new("ab\n  é;x\n");
        assert_eq!(index.position(0), (1, 1));
        assert_eq!(index.position(3), (2, 1));
        // "  é" is 4 bytes, 3 characters.
        assert_eq!(index.position(7), (2, 4));
        assert_eq!(index.first_column(2), 3);
        assert_eq!(index.line_text(2), "  é;x");
        assert_eq!(index.line_text(9), "");
    }
}
