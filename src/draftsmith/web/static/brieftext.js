// A brief in one line ("for engineers · friendly · short · in French · LLM"), as the blogs
// list and the editor's regenerate dialog show it.
const LENGTHS = { short: "short", medium: "medium length", long: "long" };

export function briefLine(brief) {
  if (!brief) return "";
  return [
    brief.audience ? `for ${brief.audience}` : "",
    brief.tone || "",
    LENGTHS[brief.length] || "",
    brief.language ? `in ${brief.language}` : "",
    brief.engine === "llm" ? "LLM" : "extractive",
    brief.allow_thin_sources ? "thin sources allowed" : "",
  ].filter(Boolean).join(" · ");
}
