// The server's word count (draftsmith.generation.citations.draft_word_count and
// draftsmith.text.words.word_count), ported exactly; tests/e2e/test_word_count.py
// checks that both give the same numbers.
const UNSPACED = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f";
const UNSPACED_RE = new RegExp(`[${UNSPACED}]`, "gu");
const WORD_RE = /[\p{L}\p{N}]+(?:[-'’.][\p{L}\p{N}]+)*/gu;
const MARKER_RE = /\[(\p{Nd}{1,4}(?:\s*(?:,|;|-|–)\s*\p{Nd}{1,4})*)\](?![(:])/gu;
const SOURCES_RE = /^#{1,6}\s+(Sources|References)\s*$/gm;

/** Words of text: letter/digit runs joined by - ' ’ . ; Chinese/Japanese characters count half. */
export function wordCount(text) {
  const unspaced = (text.match(UNSPACED_RE) || []).length;
  const words = (text.replace(UNSPACED_RE, " ").match(WORD_RE) || []).length;
  return words + Math.floor(unspaced / 2);
}

/** Words of a draft: the text before its Sources list, without citation markers. */
export function draftWordCount(markdown) {
  const heads = [...markdown.matchAll(SOURCES_RE)];
  const body = heads.length ? markdown.slice(0, heads[heads.length - 1].index) : markdown;
  return wordCount(body.replace(MARKER_RE, " "));
}
