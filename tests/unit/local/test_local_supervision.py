"""A stop raised by a signal handler never lands between a fork and the bookkeeping that remembers the child."""

import threading

import pytest

from reelflow.local.supervision import describe_exit_code, raise_outside_spawns, spawning


class StopError(Exception):
    pass


def test_outside_a_spawn_the_stop_is_raised_at_once() -> None:
    with pytest.raises(StopError):
        raise_outside_spawns(StopError("SIGTERM"))


def test_inside_a_spawn_the_stop_waits_until_the_child_is_recorded() -> None:
    recorded = []
    with pytest.raises(StopError, match="SIGTERM"), spawning():
        raise_outside_spawns(StopError("SIGTERM"))
        recorded.append("child")  # still runs: the stop is held back
        with spawning():  # nested spawns release it only at the outermost end
            recorded.append("second child")
        recorded.append("after the nested spawn")
    assert recorded == ["child", "second child", "after the nested spawn"]
    with spawning():
        pass  # nothing is left pending for the next spawn


def test_spawns_in_other_threads_do_not_hold_back_the_main_thread() -> None:
    inside = threading.Event()
    release = threading.Event()

    def spawn_in_background() -> None:
        with spawning():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=spawn_in_background)
    thread.start()
    try:
        assert inside.wait(5)
        with pytest.raises(StopError):
            raise_outside_spawns(StopError("SIGINT"))
    finally:
        release.set()
        thread.join()


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (None, "is still running"),
        (0, "exited with status 0"),
        (3, "exited with status 3"),
        (-9, "was killed by SIGKILL"),
    ],
)
def test_exit_codes_read_as_an_operator_would_say_them(code: int | None, text: str) -> None:
    assert describe_exit_code(code) == text
