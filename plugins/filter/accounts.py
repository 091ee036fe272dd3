# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)
"""The numeric ids of the platform's accounts and groups, the same on every host of a fleet."""

from __future__ import annotations

FIRST_ID = 1000
LAST_ID = 59999
FIRST_SYSTEM_ID = 100
LAST_SYSTEM_ID = 999
# Names that must never be a platform user's, and why.
RESERVED_NAMES = {
    "root": "it is the system's administrator",
    "jovyan": "the environment images keep their bundled files in /home/jovyan, which its home would hide",
}


def _ids_by_host(databases: dict, database: str, name: str, field: int) -> dict[str, int]:
    """{host: numeric id} of an entry, on the hosts that have it."""
    return {host: int(tables["getent_" + database][name][field]) for host, tables in sorted(databases.items()) if name in tables["getent_" + database]}


def _disagreement(kind: str, name: str, found: dict[str, int]) -> str:
    where = ", ".join(f"{value} on {host}" for host, value in found.items())
    return f"{kind} {name!r} has different ids on the hosts ({where}): give it the same id everywhere first"


def retired_accounts(lines: list[str]) -> dict[int, str]:
    """{uid: name} of removed accounts from the users role's record, lines of 'name uid gid'."""
    return {int(fields[1]): fields[0] for fields in (line.split() for line in lines) if len(fields) == 3}


def account_ids(users: list, groups: list, databases: dict, retired: list[str] | None = None) -> dict:
    retired_uids = retired_accounts(retired or [])
    # A removed account's ids are never given again: its files may remain in group folders and backups.
    used_uids = {int(entry[1]) for tables in databases.values() for entry in tables["getent_passwd"].values()} | set(retired_uids)
    used_gids = {int(entry[1]) for tables in databases.values() for entry in tables["getent_group"].values()}
    used_gids |= {int(fields[2]) for fields in (line.split() for line in retired or []) if len(fields) == 3}
    errors: list[str] = []
    result: dict = {"users": {}, "groups": {}, "errors": errors}

    def holders(database: str, value: int) -> dict[str, str]:
        """{host: name} of the entries holding the id (a uid in passwd, a gid in group)."""
        return {host: other for host, tables in sorted(databases.items()) for other, entry in tables["getent_" + database].items() if int(entry[1]) == value}

    def settle(kind: str, database: str, field: int, name: str, explicit, holder_database: str) -> int | None:
        """The id an entry already has or is given, or None when it is new; errors for any disagreement.
        An explicit id must not be held by an entry of another name in holder_database."""
        found = _ids_by_host(databases, database, name, field)
        if len(set(found.values())) > 1:
            errors.append(_disagreement(kind, name, found))
            return None
        if explicit is not None:
            explicit = int(explicit)
            if found and explicit not in found.values():
                host, value = next(iter(found.items()))
                errors.append(f"{kind} {name!r} is given id {explicit} but has {value} on {host}: the role does not renumber it")
            taken = {host: other for host, other in holders(holder_database, explicit).items() if other != name}
            if taken:
                host, other = next(iter(taken.items()))
                errors.append(f"{kind} {name!r}: id {explicit} is taken by {other!r} on {host}")
            return explicit
        return next(iter(found.values())) if found else None

    def free_id(used: set[int], system: bool, also: set[int] = frozenset()) -> int:
        if system:  # groupadd --system: the highest free id of the system range
            candidates = range(LAST_SYSTEM_ID, FIRST_SYSTEM_ID - 1, -1)
        else:  # useradd: one above the highest in use, else the lowest free
            highest = max((value for value in used if FIRST_ID <= value <= LAST_ID), default=FIRST_ID - 1)
            candidates = [*range(highest + 1, LAST_ID + 1), *range(FIRST_ID, highest + 1)]
        for candidate in candidates:
            if candidate not in used and candidate not in also:
                return candidate
        raise ValueError("no free id left")

    for group in groups:
        gid = settle("group", "group", 1, group["name"], group.get("gid"), "group")
        if gid is None:
            gid = free_id(used_gids, bool(group.get("system")))
        used_gids.add(gid)
        result["groups"][group["name"]] = gid
    for user in users:
        name = user["name"]
        if name in RESERVED_NAMES:
            errors.append(f"account name {name!r} is reserved ({RESERVED_NAMES[name]}): choose another name")
            continue
        system = {host: value for host, value in _ids_by_host(databases, "passwd", name, 1).items() if not FIRST_ID <= value <= LAST_ID}
        if system:
            host, value = next(iter(system.items()))
            errors.append(
                f"account {name!r} is a system account on {host} (uid {value}): a platform user must be a person's account "
                f"(uid {FIRST_ID} to {LAST_ID}); choose another name"
            )
            continue
        if user.get("uid") is not None and not FIRST_ID <= int(user["uid"]) <= LAST_ID:
            errors.append(f"account {name!r} is given uid {user['uid']}: a platform user's uid is {FIRST_ID} to {LAST_ID}")
            continue
        if user.get("uid") is not None and int(user["uid"]) in retired_uids and retired_uids[int(user["uid"])] != name:
            errors.append(
                f"account {name!r} is given uid {user['uid']}, the uid of the removed account {retired_uids[int(user['uid'])]!r}: "
                "its files may remain in group folders and backups; choose another uid"
            )
            continue
        uid = settle("account", "passwd", 1, name, user.get("uid"), "passwd")
        gid = settle("account's primary group", "passwd", 2, name, user.get("gid"), "group")
        if gid is None and not any(name in tables["getent_passwd"] for tables in databases.values()):
            gid = settle("group", "group", 1, name, None, "group")  # new: a group of its name already there, if any
        if uid is None:  # new: an id free as a uid and, for the private group, as a gid (as useradd gives)
            uid = free_id(used_uids, False, set() if gid is not None else used_gids)
        if gid is None:
            gid = uid if uid not in used_gids else free_id(used_gids, False)
        used_uids.add(uid)
        used_gids.add(gid)
        # An account that already has another group as its primary one (such as users) keeps it.
        group_names = set(holders("group", gid).values())
        group = name if not group_names or name in group_names else sorted(group_names)[0]
        result["users"][name] = {"uid": uid, "gid": gid, "group": group}
    return result


def users_plan(users: list, groups: list, users_group: str, admin_group: str) -> dict:
    """What users_list asks of the host, by kind: the entries of the accounts to be present and the names of those to
    be absent (no state: present), the accounts marked admin, every group the role creates (the two hub groups as
    system groups, then users_groups and the groups the accounts name, in order, once each) and the members of each
    of users_groups."""
    present = [user for user in users if user.get("state", "present") == "present"]
    named = [name for user in present for name in user.get("groups") or []]
    return {
        "present": present,
        "absent": [user["name"] for user in users if user.get("state", "present") == "absent"],
        "admins": [user["name"] for user in present if user.get("admin")],
        "groups": [{"name": users_group, "system": True}, {"name": admin_group, "system": True}]
        + [{"name": name} for name in dict.fromkeys([*groups, *named])],
        "members": {group: sorted(user["name"] for user in present if group in (user.get("groups") or [])) for group in groups},
    }


def account_entries(plan: dict, ids: dict, users_group: str, admin_group: str) -> dict:
    """The groups and accounts of a users plan with the ids chosen for them, as plasma.platform.accounts takes them."""
    accounts = []
    for user in plan["present"]:
        chosen = ids["users"][user["name"]]
        entry = {
            "name": user["name"],
            "uid": chosen["uid"],
            "group": chosen["group"],
            "groups": [users_group] + [admin_group] * bool(user.get("admin")) + list(user.get("groups") or []),
        }
        if chosen["group"] == user["name"]:
            entry["gid"] = chosen["gid"]
        if user.get("password") is not None:
            entry["password"] = user["password"]
        accounts.append(entry)
    groups = [{"name": group["name"], "gid": ids["groups"][group["name"]], "system": bool(group.get("system"))} for group in plan["groups"]]
    return {"groups": groups, "accounts": accounts}


class FilterModule:
    def filters(self):
        return {"account_ids": account_ids, "users_plan": users_plan, "account_entries": account_entries}
