"""cfgen: plain-English requests to ranked, syntax-checked code candidates.

A CodeFusion-style diffusion model (encoder -> denoiser -> decoder) that
writes Bash commands, Python snippets and Excel conditional-formatting rules.
Importing this package stays cheap: torch is imported only by the modules
that need it, never at import time here.
"""

__version__ = "0.1.0"

import time as _time

# When cfgen was first imported: near enough the process start for the timing line, which counts start-up.
STARTED = _time.perf_counter()
