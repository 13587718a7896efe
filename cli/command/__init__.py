"""The command line: click options, ``Options``, and the plans made from them."""
