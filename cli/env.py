"""The process's surroundings (streams, terminals), injectable so tests run in-process."""

import io
import os
import stat
import sys
from typing import BinaryIO, NamedTuple


def _is_data(stream: object) -> bool:
    """True when ``stream`` is a pipe or a regular file: something meant as input.

    A terminal, /dev/null or a closed descriptor is not, so ``zurl URL`` run from cron or
    with ``< /dev/null`` never blocks or sends an empty body by accident.
    """
    try:
        mode = os.fstat(stream.fileno()).st_mode  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISREG(mode) or stat.S_ISSOCK(mode)


def _bytes_waiting(fd: int) -> bool:
    try:
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode):
            return info.st_size > os.lseek(fd, 0, os.SEEK_CUR)
        import fcntl
        import struct
        import termios

        count = fcntl.ioctl(fd, termios.FIONREAD, struct.pack("i", 0))
        return bool(struct.unpack("i", count)[0])
    except (ImportError, OSError):
        return False


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return False


def _binary(stream: object) -> BinaryIO:
    """The binary side of a text stream; an empty one when the descriptor is closed."""
    buffer = getattr(stream, "buffer", None)
    return buffer if buffer is not None else io.BytesIO()


def _columns() -> int:
    """shutil.get_terminal_size's answer without importing shutil: $COLUMNS, the terminal,
    else 80 (a pseudo-terminal nobody sized reports 0 columns, and rich prints nothing)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, OSError, ValueError):
            columns = 0
    return columns if columns > 0 else 80


def config_dir() -> str:
    """zurl's config folder (config.json, sessions/): $ZURL_CONFIG_DIR, else the platform's:
    $XDG_CONFIG_HOME/zurl or ~/.config/zurl (Linux and other Unixes), ~/Library/Application
    Support/zurl (macOS), %APPDATA%\\zurl (Windows)."""
    explicit = os.environ.get("ZURL_CONFIG_DIR")
    if explicit:
        return os.path.expanduser(explicit)
    if sys.platform == "win32":
        base = os.environ.get("APPDATA") or os.path.expanduser("~\\AppData\\Roaming")
    elif sys.platform == "darwin":
        base = os.path.expanduser("~/Library/Application Support")
    else:
        xdg = os.environ.get("XDG_CONFIG_HOME", "")
        base = xdg if os.path.isabs(xdg) else os.path.expanduser("~/.config")
    return os.path.join(base, "zurl")


class Environment(NamedTuple):
    """Binary streams plus what they are connected to."""

    stdin: BinaryIO
    stdout: BinaryIO
    stderr: BinaryIO
    stdin_isatty: bool = False
    stdin_has_data: bool = False
    stdout_isatty: bool = False
    stderr_isatty: bool = False
    columns: int = 80
    colors: str = "auto"
    # --show-secrets: error lines keep the passwords and tokens they quote.
    show_secrets: bool = False

    @classmethod
    def from_system(cls) -> "Environment":
        return cls(
            stdin=_binary(sys.stdin),
            stdout=_binary(sys.stdout),
            stderr=_binary(sys.stderr),
            stdin_isatty=_isatty(sys.stdin),
            stdin_has_data=_is_data(sys.stdin),
            stdout_isatty=_isatty(sys.stdout),
            stderr_isatty=_isatty(sys.stderr),
            columns=_columns(),
            colors="none" if os.environ.get("NO_COLOR") else "auto",
        )

    def stdin_waiting(self) -> bool:
        """True when standard input holds bytes that could be read now, without reading
        them (a pipe's buffered bytes, the rest of a file): nothing waits, nothing is lost."""
        if not self.stdin_has_data:
            return False
        try:
            fd = self.stdin.fileno()
        except (AttributeError, OSError, ValueError):
            getbuffer = getattr(self.stdin, "getbuffer", None)  # io.BytesIO, in tests
            return getbuffer is not None and self.stdin.tell() < len(getbuffer())
        return _bytes_waiting(fd)

    def error(self, line: str) -> None:
        """Write one diagnostic line to stderr, its secrets masked (cli/masking.py)."""
        from cli.masking import mask_text

        line = mask_text(line, show=self.show_secrets)
        self.stderr.write(f"zurl: {line}\n".encode("utf-8", "replace"))
        self.stderr.flush()
