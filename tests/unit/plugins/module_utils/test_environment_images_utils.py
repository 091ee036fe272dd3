"""The environment_images module's pure logic: references, decisions, results."""

import pytest

from ansible_collections.plasma.platform.plugins.module_utils._environment_images import (
    Outcome,
    Reference,
    backoff_delays,
    check_key,
    decide,
    diff,
    disk_limit_bytes,
    is_permanent,
    local_digest,
    parse_images,
    parse_reference,
    summarize,
)

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("text", "repository", "tag", "digest", "canonical"),
    [
        ("ubuntu", "ubuntu", None, None, "ubuntu:latest"),
        ("plasmabio/template-python:12345", "plasmabio/template-python", "12345", None, "plasmabio/template-python:12345"),
        ("localhost:5000/env/a:v1", "localhost:5000/env/a", "v1", None, "localhost:5000/env/a:v1"),
        ("localhost/env", "localhost/env", None, None, "localhost/env:latest"),
        ("registry.example.org/lab/r-env:4.4", "registry.example.org/lab/r-env", "4.4", None, "registry.example.org/lab/r-env:4.4"),
        (f"busybox@{DIGEST}", "busybox", None, DIGEST, f"busybox@{DIGEST}"),
        (f"busybox:1.36@{DIGEST}", "busybox", "1.36", DIGEST, f"busybox:1.36@{DIGEST}"),
        ("a__b/c.d-e:Tag_1.0", "a__b/c.d-e", "Tag_1.0", None, "a__b/c.d-e:Tag_1.0"),
    ],
)
def test_valid_references(text, repository, tag, digest, canonical):
    reference = parse_reference(text)
    assert reference == Reference(repository=repository, tag=tag, digest=digest)
    assert str(reference) == canonical


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "non-empty"),
        ("foo bar", "white space"),
        (" ubuntu", "white space"),
        ("Ubuntu:22.04", "lower case"),
        ("ubuntu:", "reference format"),
        ("ubuntu:-bad", "reference format"),
        ("-ubuntu", "reference format"),
        ("ubuntu@sha256:abc", "reference format"),
        ("a//b", "reference format"),
        ("x" * 256, "longer than 255"),
    ],
)
def test_invalid_references_say_why(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_reference(text)


def test_parse_images_reports_every_problem_and_keeps_order():
    specs, errors = parse_images(
        [
            "env/b:1",
            {"name": "env/a:2", "platform": "linux/arm64"},
            "foo bar",
            {"name": "env/c", "platform": "arm64"},
            {"name": "env/d", "tag": "x"},
            "env/b:1",
            {"name": "built/e:0a1b2c3d4e5f", "policy": "missing"},
            {"name": "env/f", "policy": "always"},
        ]
    )
    assert [s.name for s in specs] == ["env/b:1", "env/a:2", "built/e:0a1b2c3d4e5f"]
    assert specs[1].platform == "linux/arm64"
    assert (specs[0].policy, specs[2].policy) == (None, "missing")
    assert len(errors) == 4
    assert "'foo bar' is not a valid reference" in errors[0]
    assert "os/arch" in errors[1]
    assert "unknown key(s) tag" in errors[2]
    assert "policy 'always' is not one of missing, latest" in errors[3]


def test_local_digest_matches_the_repository_docker_records():
    assert local_digest([f"localhost:5000/env/a@{DIGEST}"], parse_reference("localhost:5000/env/a:v1")) == DIGEST
    assert local_digest([f"other/a@{DIGEST}"], parse_reference("env/a")) is None
    assert local_digest([f"ubuntu@{DIGEST}"], parse_reference("ubuntu:24.04")) == DIGEST
    assert local_digest([f"docker.io/library/ubuntu@{DIGEST}"], parse_reference("ubuntu")) == DIGEST
    assert local_digest([], parse_reference("ubuntu")) is None


@pytest.mark.parametrize(
    ("policy", "present", "local", "remote", "expected"),
    [
        ("missing", False, None, None, "pull"),
        ("missing", True, "sha256:old", None, "present"),
        ("latest", False, None, "sha256:new", "pull"),
        ("latest", True, "sha256:same", "sha256:same", "present"),
        ("latest", True, "sha256:old", "sha256:new", "update"),
        ("latest", True, None, "sha256:new", "update"),  # built or loaded locally: no digest to compare
    ],
)
def test_decide(policy, present, local, remote, expected):
    assert decide(policy, present, local, remote) == expected


def test_permanent_errors_are_not_retried():
    assert is_permanent("manifest unknown: manifest unknown")
    assert is_permanent("pull access denied for x, repository does not exist")
    assert not is_permanent("Get http://localhost:5000/v2/: dial tcp: connection refused")
    assert backoff_delays(3, 0.5) == [0.5, 1.0, 2.0]
    assert backoff_delays(0, 1) == []


def test_summary_names_each_failure_and_keeps_successes():
    outcomes = [
        Outcome(name="env/a", action="pulled", digest=DIGEST, before={}),
        Outcome(name="env/b", action="failed", error="connection refused"),
        Outcome(name="env/c", action="present", before={"id": "sha256:c", "digest": DIGEST}, digest=DIGEST),
    ]
    changed, message = summarize(outcomes)
    assert changed is True
    assert message == "1 of 3 image(s) failed: env/b: connection refused"
    assert diff(outcomes) == {
        "before": {"env/a": "absent", "env/b": "absent", "env/c": DIGEST},
        "after": {"env/a": DIGEST, "env/b": "absent", "env/c": DIGEST},
    }
    assert [o.as_result()["action"] for o in outcomes] == ["pulled", "failed", "present"]
    assert "error" in outcomes[1].as_result() and "error" not in outcomes[0].as_result()


def test_nothing_changed_when_everything_is_present():
    assert summarize([Outcome(name="env/a", action="present")]) == (False, None)
    assert summarize([Outcome(name="env/a", action="would_pull")]) == (True, None)


@pytest.mark.parametrize(
    ("limit", "expected"),
    [("10G", 10 * 1024**3), ("512m", 512 * 1024**2), ("1.5g", int(1.5 * 1024**3)), ("1073741824", 1024**3), ("0", None), (0, None), (None, None)],
)
def test_disk_limits_read_as_bytes_and_zero_is_none(limit, expected):
    assert disk_limit_bytes(limit) == expected


@pytest.mark.parametrize("limit", ["10 G", "10GB", "-1", "ten"])
def test_malformed_disk_limits_are_refused(limit):
    with pytest.raises(ValueError, match="not a number of bytes"):
        disk_limit_bytes(limit)


def test_an_image_checked_with_a_new_disk_limit_is_checked_again():
    assert check_key("sha256:1", None) == "sha256:1"
    assert check_key("sha256:1", 2048) != check_key("sha256:1", 4096) != "sha256:1"
