"""The NL encoder E: all-MiniLM-L6-v2 resolved, verified and run; E_s padded and cached."""
