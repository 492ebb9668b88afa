"""Every run gets a namespace of its own (POLYIPC_NAMESPACE from ctest, or
"pytest-python", plus this process's pid) before polyipc is imported; child
processes inherit it. Each test names its queues and sync objects with the
`qname` fixture, which unlinks them (and a Condition's "<name>.lock")
afterwards, and the session ends by checking that the namespace is empty."""

import os
import uuid

if not os.environ.get("POLYIPC_PYTEST_SESSION"):  # not again in a child that imports this file
    os.environ["POLYIPC_PYTEST_SESSION"] = str(os.getpid())
    os.environ["POLYIPC_NAMESPACE"] = f"{os.environ.get('POLYIPC_NAMESPACE') or 'pytest-python'}-{os.getpid()}"

import pytest  # noqa: E402

import polyipc  # noqa: E402


@pytest.fixture
def qname(request):
    """A factory of unique queue names; every name it made is unlinked after the test."""
    made = []

    def make(tag="q"):
        name = f"{request.node.name[:60]}.{tag}.{uuid.uuid4().hex[:8]}".replace("[", ".").replace("]", "")
        name = "".join(c if c.isalnum() or c in "._-" else "-" for c in name)
        made.append(name)
        return name

    yield make
    for name in made:
        for n in (name, f"{name}.lock"):  # a Condition's default lock is "<name>.lock"
            try:
                polyipc.unlink(n)
            except polyipc.NotFound:
                pass


@pytest.fixture(scope="session", autouse=True)
def namespace_left_clean():
    yield
    left = [o["name"] for o in polyipc.list_objects()]
    for name in left:
        polyipc.unlink(name)
    assert not left, f"tests left objects behind in namespace {polyipc.namespace()}: {left}"
