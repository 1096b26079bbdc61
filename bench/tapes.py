"""The bytes s2sjax's generated code allocates for tapes, counted on the `python` target."""

from s2sjax.backend import runtime


def tape_bytes(call):
    """Run `call()` (a gradient on the python target) and return the bytes of every tape array
    it allocates: `rt.tape`, and `rt.grow` or `rt.reserve` when a growing tape doubles."""
    call()  # the code generated first: generating it reads rt.tape, which must be s2sjax's
    allocated = []
    originals = {name: getattr(runtime, name) for name in ("tape", "grow", "reserve")}

    def counted(name):
        def allocate(tape, size):
            out = originals[name](tape, size)
            if out is not tape:  # grow and reserve return the tape itself while it has room
                allocated.append(out.nbytes)
            return out

        return allocate

    for name in originals:
        setattr(runtime, name, counted(name))
    try:
        call()
    finally:
        for name, original in originals.items():
            setattr(runtime, name, original)
    return sum(allocated)
