//! How text becomes index terms: every Han character alone and with its neighbour (overlapping
//! bigrams), and runs of other letters and digits as lower-cased words.
//!
//! Bigrams rather than a dictionary segmenter (jieba and the like) because a segmenter decides
//! where words end, and when it decides differently for the document than for the query the case
//! is not found at all: a name such as 王建国 or a place such as 南关村 is segmented by context.
//! With bigrams a query of n Han characters is the phrase of its n − 1 bigrams, which matches
//! exactly the documents containing that string, so every two-character word (噪音, 拆迁, 漏水) is
//! one term lookup and every name is found. Single characters are indexed too, at the same
//! positions, so a one-character query (a family name) also works.

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// Whether a character is a Han ideograph (CJK unified, extensions A–F, compatibility).
pub fn is_han(c: char) -> bool {
    matches!(c,
        '\u{3007}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FA1F}')
}

/// One piece of a query: a run of Han characters or a word of other letters and digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryUnit {
    /// Han characters, in order.
    Han(Vec<char>),
    /// A lower-cased word.
    Word(String),
}

impl QueryUnit {
    /// The terms that must appear at consecutive positions for this unit to match.
    pub fn terms(&self) -> Vec<String> {
        match self {
            QueryUnit::Han(chars) if chars.len() == 1 => vec![chars[0].to_string()],
            QueryUnit::Han(chars) => chars.windows(2).map(|w| w.iter().collect()).collect(),
            QueryUnit::Word(w) => vec![w.clone()],
        }
    }
}

/// Splits a query into the units that must all match; punctuation and spaces separate them.
pub fn query_units(text: &str) -> Vec<QueryUnit> {
    let mut units = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if is_han(c) {
            let mut run = vec![c];
            while let Some(&n) = chars.peek().filter(|n| is_han(**n)) {
                run.push(n);
                chars.next();
            }
            units.push(QueryUnit::Han(run));
        } else if c.is_alphanumeric() {
            let mut word: String = c.to_lowercase().collect();
            while let Some(&n) = chars.peek().filter(|n| n.is_alphanumeric() && !is_han(**n)) {
                word.extend(n.to_lowercase());
                chars.next();
            }
            units.push(QueryUnit::Word(word));
        }
    }
    units
}

/// The terms of a text with their positions and byte offsets.
pub fn index_terms(text: &str) -> Vec<Token> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let end_of = |i: usize| chars.get(i + 1).map_or(text.len(), |(b, _)| *b);
    let mut tokens = Vec::new();
    let mut position = 0;
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        if is_han(c) {
            tokens.push(token(start, end_of(i), position, c.to_string()));
            if let Some(&(_, next)) = chars.get(i + 1).filter(|(_, n)| is_han(*n)) {
                tokens.push(token(
                    start,
                    end_of(i + 1),
                    position,
                    [c, next].iter().collect(),
                ));
            }
            position += 1;
            i += 1;
        } else if c.is_alphanumeric() {
            let mut word = String::new();
            let mut j = i;
            while j < chars.len() && chars[j].1.is_alphanumeric() && !is_han(chars[j].1) {
                word.extend(chars[j].1.to_lowercase());
                j += 1;
            }
            tokens.push(token(start, end_of(j - 1), position, word));
            position += 1;
            i = j;
        } else {
            i += 1;
        }
    }
    tokens
}

fn token(from: usize, to: usize, position: usize, text: String) -> Token {
    Token {
        offset_from: from,
        offset_to: to,
        position,
        text,
        position_length: 1,
    }
}

/// The tokenizer registered with the index under [`GramTokenizer::NAME`].
#[derive(Debug, Clone, Default)]
pub struct GramTokenizer;

impl GramTokenizer {
    /// The name the schema refers to.
    pub const NAME: &'static str = "yongxin_grams";
}

/// The terms of one text, handed out one by one.
pub struct GramStream {
    tokens: Vec<Token>,
    next: usize,
}

impl Tokenizer for GramTokenizer {
    type TokenStream<'a> = GramStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> GramStream {
        GramStream {
            tokens: index_terms(text),
            next: 0,
        }
    }
}

impl TokenStream for GramStream {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str) -> Vec<(usize, String)> {
        index_terms(text)
            .into_iter()
            .map(|t| (t.position, t.text))
            .collect()
    }

    #[test]
    fn han_characters_become_unigrams_and_bigrams_at_one_position() {
        assert_eq!(
            terms("噪音扰民"),
            vec![
                (0, "噪".into()),
                (0, "噪音".into()),
                (1, "音".into()),
                (1, "音扰".into()),
                (2, "扰".into()),
                (2, "扰民".into()),
                (3, "民".into()),
            ]
        );
    }

    #[test]
    fn punctuation_breaks_bigrams_and_other_words_are_lower_cased() {
        assert_eq!(
            terms("漏水，A栋3单元 WiFi"),
            vec![
                (0, "漏".into()),
                (0, "漏水".into()),
                (1, "水".into()),
                (2, "a".into()),
                (3, "栋".into()),
                (4, "3".into()),
                (5, "单".into()),
                (5, "单元".into()),
                (6, "元".into()),
                (7, "wifi".into()),
            ]
        );
    }

    #[test]
    fn offsets_point_at_the_original_text() {
        let text = "王建国说";
        for t in index_terms(text) {
            assert_eq!(&text[t.offset_from..t.offset_to], t.text);
        }
    }

    #[test]
    fn queries_split_into_units_whose_terms_are_consecutive_bigrams() {
        let units = query_units(" 王建国  漏水 B2 王");
        assert_eq!(
            units,
            vec![
                QueryUnit::Han(vec!['王', '建', '国']),
                QueryUnit::Han(vec!['漏', '水']),
                QueryUnit::Word("b2".into()),
                QueryUnit::Han(vec!['王']),
            ]
        );
        assert_eq!(units[0].terms(), vec!["王建", "建国"]);
        assert_eq!(units[1].terms(), vec!["漏水"]);
        assert_eq!(units[3].terms(), vec!["王"]);
        assert!(query_units("，。!?").is_empty());
    }

    #[test]
    fn the_stream_hands_out_every_term_once() {
        let mut tokenizer = GramTokenizer;
        let mut stream = tokenizer.token_stream("拆迁");
        let mut seen = Vec::new();
        while stream.advance() {
            seen.push(stream.token().text.clone());
        }
        assert_eq!(seen, vec!["拆", "拆迁", "迁"]);
    }
}
