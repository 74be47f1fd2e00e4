"""Compare JSON documents leaf by leaf: which values a rewrite changed, and that nothing else moved."""


def leaves(node, path=()):
    """Every leaf of a JSON document with its path."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from leaves(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from leaves(v, path + (i,))
    else:
        yield path, node


def changed_paths(a, b):
    """The paths whose values differ between two documents of the same structure."""
    la, lb = dict(leaves(a)), dict(leaves(b))
    assert la.keys() == lb.keys(), "structure changed"
    return {p for p in la if la[p] != lb[p] or type(la[p]) is not type(lb[p])}
