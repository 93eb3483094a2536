// Document viewer: bring the cited span (the first <mark id="cited">) into view.
const cited = document.getElementById("cited");

function showCited(behavior) {
  if (!cited) return;
  cited.scrollIntoView({ behavior, block: "center" });
  cited.focus({ preventScroll: true });
}

showCited("auto");
document.getElementById("to-cited")?.addEventListener("click", (event) => {
  event.preventDefault();
  showCited("smooth");
});
