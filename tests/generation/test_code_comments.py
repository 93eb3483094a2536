"""A code block made only of comments (a file's licence and version history) or cut off
after an opening brace is no example."""

from draftsmith.generation.extractive.units import code_unit
from draftsmith.generation.types import Passage
from draftsmith.text.blocks import Block, markdown_blocks

HEADER = """```
/* zpipe.c: example of proper use of zlib's inflate() and deflate()
   Not copyrighted -- provided to the public domain */

/* Version history:
   1.0  30 Oct 2004  First version
 */
```"""
PROGRAM = """```c
#include <stdio.h>
/* copy stdin to stdout */
int main(void) { return 0; }
```"""


def _unit(text: str):
    p = Passage("1", "d", "zlib_how.html", None, 0, len(text), text)
    (block,) = [b for b in markdown_blocks(text) if b.kind == "code"]
    return code_unit(p, block, "Example")


CUT = """```c
/* Compress from file source to file dest until EOF on source. */
int def(FILE *source, FILE *dest, int level)
{
```"""


def test_a_comment_only_block_is_no_example_but_a_program_is():
    assert _unit(HEADER) is None
    assert _unit(CUT) is None  # the page goes on in prose after "{"
    unit = _unit(PROGRAM)
    assert unit is not None and "int main" in unit.markdown


def test_a_procedure_with_code_flattened_into_an_item_is_no_procedure():
    from draftsmith.generation.extractive.units import steps_unit

    text = (
        "1. deps = gcc specifies that the tool outputs gcc-style dependencies.\n"
        "2. deps = msvc specifies the Visual Studio form. For instance msvc_deps_prefix = "
        "Note: including file: rule cc deps = msvc command = cl /showIncludes -c $in\n"
    )
    p = Passage("1", "d", "manual.html", None, 0, len(text), text)
    assert steps_unit(p, Block(0, len(text), "list"), "deps") is None
    clean = "1. Install the package with pip.\n2. Run the build from the project root.\n"
    p = Passage("1", "d", "manual.html", None, 0, len(clean), clean)
    assert steps_unit(p, Block(0, len(clean), "list"), "Install") is not None
