"""matplotlib for the bench scripts' PNGs, if installed (pip install "cfgen-diffusion[bench]")."""

from __future__ import annotations


def pyplot():
    """matplotlib.pyplot on the file-only Agg backend, or None (with a line saying so) when it is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no PNG (pip install matplotlib)")
        return None
    return plt
