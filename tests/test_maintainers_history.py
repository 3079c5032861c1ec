"""A MAINTAINERS file's history read date by date: a small repository built here with the git
CLI at fixed dates, holding an old-format file and three versions of a MAINTAINERS file
(one of them changed on a side branch merged later), and every number checked exactly.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from observe.history import ObserveError
from observe.maintainers_history import (
    dates_between,
    maintainer_id,
    maintainers_at,
    maintainers_history,
    tree_id,
)

ROOT = Path(__file__).resolve().parent.parent

HEADER = """\
Descriptions of section entries:

	M: Mail patches to: FullName <address@domain>
	F: Files and directories

Maintainers List (try to look for most precise areas first)

		-----------------------------------
"""

OLD_FORMAT = """\
# Regular maintainers for board support:

Ann Smith <ann@example.org>

	board1		ARM
"""

V1 = (
    HEADER
    + """
ARM
M:	Ann Smith <ann@example.org>
M:	Bob Jones <BOB@example.org>
S:	Maintained
T:	git https://example.org/u-boot-arm.git
F:	arch/arm/

NET
M:	Ann Smith <Ann@Example.org>
T:	git https://example.org/u-boot-net/
F:	net/
# a comment inside an entry does not end it
X:	net/old/

USB
S:	Orphan
F:	drivers/usb/

SPI
M:	carol@example.org
T:	git https://EXAMPLE.org/u-boot-net.git
F:	drivers/spi/

NO FILES
M:	Dan <dan@example.org>
S:	Maintained
"""
)

V2 = (
    HEADER
    + """
ARM
M:	Ann Smith <ann@example.org>
M:	Bob Jones <bob@newcorp.com>
T:	git https://example.org/u-boot-arm.git
F:	arch/arm/

NET
M:	Ann Smith <ann@example.org>
M:	Erin <erin@example.org>
F:	net/

USB
M:	Frank <frank@example.org>
T:	git https://example.org/u-boot-usb.git
F:	drivers/usb/

SPI
M:	carol@example.org
F:	drivers/spi/

I2C
M:	Erin <erin@example.org>
M:	Gina <gina@example.org>
R:	Ann Smith <ann@example.org>
T:	git https://example.org/u-boot-i2c.git
F:	drivers/i2c/
"""
)

CAROL = "M:\tcarol@example.org\n"
V2_IVAN = V2.replace(CAROL, CAROL + "M:\tIvan <ivan@example.org>\n")

V3 = (
    V2_IVAN.replace(CAROL, "")
    .replace("Frank <frank@example.org>", "Hal <hal@example.org>")
    .replace("Ann Smith <ann@example.org>\nM:\tBob", "Ann Smith <ANN@example.org>\nM:\tBob")
    + "\nMMC\nM:\tJo <jo@example.org>\nT:\tgit https://example.org/u-boot-usb.git\n"
    + "F:\tdrivers/mmc/\n"
)


def seconds(day: str) -> int:
    return int(dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC).timestamp())


class Repo:
    """A repository whose commits have fixed dates (author = committer date, UTC)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str, at: str = "2019-01-01") -> str:
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(self.path),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_AUTHOR_NAME": "Dev",
            "GIT_AUTHOR_EMAIL": "dev@example.org",
            "GIT_COMMITTER_NAME": "Maintainer",
            "GIT_COMMITTER_EMAIL": "maintainer@example.org",
            "GIT_AUTHOR_DATE": f"{seconds(at)} +0000",
            "GIT_COMMITTER_DATE": f"{seconds(at)} +0000",
        }
        done = subprocess.run(
            ["git", *args], cwd=self.path, env=env, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    def commit(self, name: str, text: str, *, at: str) -> None:
        (self.path / name).write_text(text)
        self.git("add", name)
        self.git("commit", "-q", "-m", f"{name} as of {at}", at=at)


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """main: README (2019-12-01), old-format MAINTAINERS (2020-01-01), V1 (2020-01-10 00:00),
    V2 (2020-06-15), README (2020-09-15), merge of topic (2020-10-01), V3 (2021-03-01);
    topic, from V2: V2 with Ivan (2020-08-01)."""
    repo = Repo(tmp_path_factory.mktemp("maintainers") / "repo")
    repo.commit("README", "a project\n", at="2019-12-01T12:00:00")
    repo.commit("MAINTAINERS", OLD_FORMAT, at="2020-01-01T12:00:00")
    repo.commit("MAINTAINERS", V1, at="2020-01-10T00:00:00")
    repo.commit("MAINTAINERS", V2, at="2020-06-15T08:00:00")
    repo.git("checkout", "-q", "-b", "topic")
    repo.commit("MAINTAINERS", V2_IVAN, at="2020-08-01T08:00:00")
    repo.git("checkout", "-q", "main")
    repo.commit("README", "a project, documented\n", at="2020-09-15T08:00:00")
    repo.git("merge", "-q", "--no-ff", "-m", "Merge topic", "topic", at="2020-10-01T08:00:00")
    repo.commit("MAINTAINERS", V3, at="2021-03-01T08:00:00")
    return repo.path


DATES = [dt.date(2020, 2, 1), dt.date(2020, 9, 1), dt.date(2021, 1, 1), dt.date(2021, 4, 1)]


def test_every_number_of_every_date(repo):
    rows = [s.row() for s in maintainers_history(repo, reversed(DATES))]
    for row in rows:
        del row["commit"]
    assert rows == [
        {  # V1: ARM 2, NET 1 (Ann twice), USB 0, SPI 1; NO FILES names no file
            "date": "2020-02-01",
            "entries": 4,
            "maintainers": 3,
            "per_entry_median": 1.0,
            "per_entry_mean": 1.0,
            "single_share": 0.5,
            "orphans": 1,
            "trees": 2,  # arm: Ann, Bob; net: Ann (NET), carol (SPI)
            "per_tree_median": 2.0,
            "per_tree_mean": 2.0,
            "joined": None,
            "left": None,
            "readdressed": None,
            "joined_with_entry": None,
        },
        {  # V2 (the topic commit of 2020-08-01 is not on the mainline yet): 2, 2, 1, 1, 2
            "date": "2020-09-01",
            "entries": 5,
            "maintainers": 6,
            "per_entry_median": 2.0,
            "per_entry_mean": 1.6,
            "single_share": 0.4,
            "orphans": 0,
            "trees": 3,  # arm 2, i2c 2, usb 1
            "per_tree_median": 2.0,
            "per_tree_mean": 5 / 3,
            "joined": 4,  # bob@newcorp.com, erin, frank, gina
            "left": 1,  # bob@example.org
            "readdressed": 1,  # Bob Jones under a new address
            "joined_with_entry": 1,  # gina, in I2C only (USB was there, unmaintained)
        },
        {  # V2 with Ivan, merged on 2020-10-01: 2, 2, 1, 2, 2
            "date": "2021-01-01",
            "entries": 5,
            "maintainers": 7,
            "per_entry_median": 2.0,
            "per_entry_mean": 1.8,
            "single_share": 0.2,
            "orphans": 0,
            "trees": 3,
            "per_tree_median": 2.0,
            "per_tree_mean": 5 / 3,
            "joined": 1,
            "left": 0,
            "readdressed": 0,
            "joined_with_entry": 0,
        },
        {  # V3: carol and Frank gone, Hal in, Jo with MMC; Ann in capitals is still Ann
            "date": "2021-04-01",
            "entries": 6,
            "maintainers": 7,
            "per_entry_median": 1.5,
            "per_entry_mean": 1.5,
            "single_share": 0.5,
            "orphans": 0,
            "trees": 3,  # usb: Hal (USB), Jo (MMC)
            "per_tree_median": 2.0,
            "per_tree_mean": 2.0,
            "joined": 2,
            "left": 2,
            "readdressed": 0,
            "joined_with_entry": 1,
        },
    ]


def test_the_commit_read_is_the_last_mainline_commit_at_or_before_midnight_utc(repo):
    def sha(at: str) -> str:
        out = subprocess.run(
            ["git", "-C", str(repo), "log", "--first-parent", "--format=%H %ct", "main"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        shas = dict(reversed(line.split()) for line in out.splitlines())
        return shas[str(seconds(at))]

    assert maintainers_at(repo, dt.date(2020, 1, 10)).commit == sha("2020-01-10T00:00:00")
    assert maintainers_at(repo, dt.date(2020, 9, 1)).commit == sha("2020-06-15T08:00:00")
    assert maintainers_at(repo, dt.date(2020, 9, 16)).commit == sha("2020-09-15T08:00:00")
    assert maintainers_at(repo, dt.date(2020, 9, 16)).maintainers == 6


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("2019-11-01", r"repo: no commit on HEAD at or before 2019-11-01$"),
        ("2019-12-15", r"repo: no MAINTAINERS file at the top level at 2019-12-15 \(commit"),
        ("2020-01-09", r"repo: MAINTAINERS at 2020-01-09 \(commit \w{12}\): no entry with F:"),
    ],
)
def test_a_date_without_a_maintainers_file_in_the_format_is_named(repo, day, message):
    with pytest.raises(ObserveError, match=message):
        maintainers_history(repo, [dt.date(2021, 1, 1), dt.date.fromisoformat(day)])


def test_a_directory_that_is_not_a_repository_is_refused(tmp_path):
    with pytest.raises(ObserveError, match=r"not a git repository$"):
        maintainers_history(tmp_path, [dt.date(2021, 1, 1)])


def test_no_date_is_refused(repo):
    with pytest.raises(ObserveError, match="no date"):
        maintainers_history(repo, [])


def test_dates_between_steps_from_the_start_to_the_end_inclusive():
    assert dates_between(dt.date(2020, 2, 1), dt.date(2021, 2, 1), "quarter") == [
        dt.date(2020, 2, 1),
        dt.date(2020, 5, 1),
        dt.date(2020, 8, 1),
        dt.date(2020, 11, 1),
        dt.date(2021, 2, 1),
    ]
    assert dates_between(dt.date(2015, 1, 1), dt.date(2016, 12, 31), "half-year") == [
        dt.date(2015, 1, 1),
        dt.date(2015, 7, 1),
        dt.date(2016, 1, 1),
        dt.date(2016, 7, 1),
    ]
    assert len(dates_between(dt.date(2012, 1, 1), dt.date(2026, 1, 1), "year")) == 15
    with pytest.raises(ObserveError, match="expected one of month, quarter, half-year, year"):
        dates_between(dt.date(2020, 1, 1), dt.date(2021, 1, 1), "week")
    with pytest.raises(ObserveError, match="before"):
        dates_between(dt.date(2021, 1, 1), dt.date(2020, 1, 1), "year")


@pytest.mark.parametrize(
    ("value", "identity"),
    [
        ("Ann Smith <Ann@Example.org>", "ann@example.org"),
        ("carol@EXAMPLE.org", "carol@example.org"),
        ("carol@example.org (SPI)", "carol@example.org"),
        ("Dan  Nobody", "dan nobody"),
    ],
)
def test_a_maintainer_is_its_address_in_lower_case(value, identity):
    assert maintainer_id(value) == identity


@pytest.mark.parametrize(
    "value",
    [
        "git https://example.org/u-boot-usb.git",
        "git https://Example.org/u-boot-usb/",
        "https://example.org/u-boot-usb",
    ],
)
def test_a_tree_is_its_location_without_git_suffix_in_lower_case(value):
    assert tree_id(value) == "https://example.org/u-boot-usb"


def test_the_script_prints_the_table_and_json(repo):
    script = ROOT / "scripts" / "maintainers-history"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, str(script), str(repo), "--since", "2020-09-01"]
    args += ["--until", "2021-04-01", "--every", "quarter"]
    table = subprocess.run(args, capture_output=True, text=True, env=env, check=True).stdout
    assert "| 2021-03-01 |" in table and "| 2020-09-01 |" in table
    done = subprocess.run([*args, "--json"], capture_output=True, text=True, env=env, check=True)
    rows = json.loads(done.stdout)["dates"]
    assert [(r["date"], r["maintainers"], r["joined"], r["left"]) for r in rows] == [
        ("2020-09-01", 6, None, None),
        ("2020-12-01", 7, 1, 0),
        ("2021-03-01", 7, 0, 0),  # V3 was committed at 08:00 that day
    ]
    bad = subprocess.run(
        [sys.executable, str(script), str(repo), "--dates", "2019-12-15"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "no MAINTAINERS file" in bad.stderr
