"""Where the response body goes: the normal renderer, line by line, or a file.

Chosen once per run from a ``BodyPlan``: a download saves it (``cli.output.download``),
``--stream`` or a ``text/event-stream`` response print it line by line
(``cli.output.streaming``), ``--response-mime``/``--response-charset`` retype it for
display (``cli.output.retype``).
"""

from typing import TYPE_CHECKING, NamedTuple

from cli.env import Environment
from cli.output.parts import OutputSpec
from cli.output.plain import Renderer, make_renderer
from cli.output.streaming import LineRenderer

if TYPE_CHECKING:
    from cli.output.download import DownloadPlan


class BodyPlan(NamedTuple):
    """Where the response body is written and how it is shown."""

    download: "DownloadPlan | None" = None  # --download/--output: to a file (or '-')
    stream: bool = False  # --stream: line by line as it arrives
    response_mime: str | None = None
    response_charset: str | None = None


def renderer_for(env: Environment, out: OutputSpec, plan: BodyPlan) -> Renderer:
    """The renderer chain for one response, from the output spec and the body plan."""
    if plan.download is not None:
        from cli.output.download import DownloadSink

        # The body goes to the file; stdout keeps the heads (none when it is the file).
        parts = "" if plan.download.output == "-" else out.parts.replace("b", "")
        heads = make_renderer(env.stdout, out._replace(parts=parts), env.columns)
        return DownloadSink(env, plan.download, heads)
    renderer: Renderer = LineRenderer(
        make_renderer(env.stdout, out, env.columns), env.stdout, out, always=plan.stream
    )
    if plan.response_mime is not None or plan.response_charset is not None:
        from cli.output.retype import Retyped

        renderer = Retyped(renderer, plan.response_mime, plan.response_charset)
    return renderer
