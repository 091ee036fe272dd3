# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)
"""The spawn page's choice of environment: a card for each, with its description and what it gets. Cards are the
radio buttons of one group named `image` (the display name, as the REST API takes it), so a keyboard moves between
them with the arrow keys and Enter starts the chosen one; the first has the focus when the page opens."""

from __future__ import annotations

import html
from collections.abc import Sequence

from .environments import Environment
from .quota import size

# Within JupyterHub's page (Bootstrap 5): cards side by side, the chosen one and the focused one outlined.
STYLE = """<style>
.plasma-cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr)); gap: 0.75rem; margin: 0.5rem 0 1rem; }
.plasma-card { display: block; padding: 0.75rem 1rem; border: 1px solid var(--bs-border-color, #ccc); border-radius: 0.5rem; cursor: pointer; }
.plasma-card:has(input:checked) { border-color: var(--bs-primary, #f37524); box-shadow: 0 0 0 1px var(--bs-primary, #f37524); }
.plasma-card:focus-within { outline: 2px solid var(--bs-primary, #f37524); outline-offset: 2px; }
.plasma-card-name { font-weight: bold; margin-left: 0.25rem; }
.plasma-card p, .plasma-card ul { margin: 0.4rem 0 0; }
.plasma-card ul { padding-left: 1.1rem; font-size: 0.9em; }
</style>"""


def resources(environment: Environment) -> list[str]:
    """What a server of this environment gets, as the card lists it."""
    memory = size(environment.mem_limit) if environment.mem_limit else "no limit"
    cpus = f"{environment.cpu_limit:g} CPU{'' if environment.cpu_limit == 1 else 's'}" if environment.cpu_limit else "shared"
    return [f"Memory: {memory}", f"CPU: {cpus}"]


def card(index: int, environment: Environment) -> str:
    name = html.escape(environment.display_name)
    lines = [f"<li>{html.escape(line)}</li>" for line in resources(environment)]
    if environment.repository:
        lines.append(f"<li>Built from <code>{html.escape(environment.repository)}</code> at <code>{html.escape(environment.commit[:12])}</code></li>")
    description = f"<p>{html.escape(environment.description)}</p>" if environment.description else ""
    return (
        f'<label class="plasma-card" for="plasma-environment-{index}">'
        f'<input type="radio" class="form-check-input" name="image" id="plasma-environment-{index}" value="{name}"'
        f"{' checked autofocus' if index == 0 else ''} required>"
        f'<span class="plasma-card-name">{name}</span>{description}<ul>{"".join(lines)}</ul></label>'
    )


def environment_cards(environments: Sequence[Environment]) -> str:
    """The cards of these environments, the first one chosen."""
    cards = "".join(card(index, environment) for index, environment in enumerate(environments))
    return f'{STYLE}\n<fieldset id="plasma-environments"><legend>Select an environment</legend><div class="plasma-cards">{cards}</div></fieldset>'
