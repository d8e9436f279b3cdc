"""AWS CloudTrail raw fields → ECS, as the Elastic AWS integration maps them.

Differences from Elastic on purpose: ``event.id`` stays Heron's own id (CloudTrail's
``eventID`` is kept under its name); ``user.name`` also falls back to ``root`` for the
root user and to the last part of the ARN; the acting ``user.name`` always joins
``related.user``; no GeoIP and no user-agent parsing here (enrichment's job).
"""

from __future__ import annotations

import contextlib
from functools import lru_cache
from typing import Any

from heron.model.event import Event
from heron.model.timeutil import parse_timestamp
from heron.parsers.fields import is_ip

__all__ = ["normalize_cloudtrail"]

_IAM, _AUTH, _CONFIG, _FILE = "iam", "authentication", "configuration", "file"

# (category, types) per eventName, for names Elastic's pipeline names explicitly.
_BY_NAME: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "AddUserToGroup": ((_IAM,), ("group", "change")),
    "AssumeRole": ((_AUTH,), ("info",)),
    "AttachGroupPolicy": ((_IAM,), ("group", "change")),
    "AttachUserPolicy": ((_IAM,), ("user", "change")),
    "ChangePassword": ((_IAM,), ("user", "change")),
    "ConsoleLogin": ((_AUTH,), ("info",)),
    "CreateAccessKey": ((_IAM,), ("user", "change")),
    "CreateBucket": ((_FILE,), ("creation",)),
    "CreateGroup": ((_IAM,), ("group", "creation")),
    "CreateKeyPair": ((_IAM,), ("admin", "creation")),
    "CreateUser": ((_IAM,), ("user", "creation")),
    "CreateVirtualMFADevice": ((_IAM,), ("user", "change")),
    "DeactivateMFADevice": ((_IAM,), ("user", "change")),
    "DeleteAccessKey": ((_IAM,), ("user", "change")),
    "DeleteBucket": ((_FILE,), ("deletion",)),
    "DeleteGroup": ((_IAM,), ("group", "deletion")),
    "DeleteGroupPolicy": ((_IAM,), ("group", "change")),
    "DeleteSSHPublicKey": ((_IAM,), ("user", "change")),
    "DeleteUser": ((_IAM,), ("user", "deletion")),
    "DeleteUserPermissionsBoundary": ((_IAM,), ("user", "change")),
    "DeleteUserPolicy": ((_IAM,), ("user", "change")),
    "DeleteVirtualMFADevice": ((_IAM,), ("user", "change")),
    "DetachGroupPolicy": ((_IAM,), ("group", "change")),
    "DetachUserPolicy": ((_IAM,), ("user", "change")),
    "EnableMFADevice": ((_IAM,), ("user", "change")),
    "GetGroup": ((_IAM,), ("group", "info")),
    "GetGroupPolicy": ((_IAM,), ("group", "info")),
    "GetUser": ((_IAM,), ("user", "info")),
    "GetUserPolicy": ((_IAM,), ("user", "info")),
    "ListAttachedGroupPolicies": ((_IAM,), ("group", "info")),
    "ListAttachedUserPolicies": ((_IAM,), ("user", "info")),
    "ListGroupPolicies": ((_IAM,), ("group", "info")),
    "ListGroups": ((_IAM,), ("group", "info")),
    "ListGroupsForUser": ((_IAM,), ("user", "info")),
    "ListUserPolicies": ((_IAM,), ("user", "info")),
    "ListUsers": ((_IAM,), ("user", "info")),
    "ListUserTags": ((_IAM,), ("user", "info")),
    "PutGroupPolicy": ((_IAM,), ("group", "change")),
    "PutUserPermissionsBoundary": ((_IAM,), ("user", "change")),
    "PutUserPolicy": ((_IAM,), ("user", "change")),
    "RemoveUserFromGroup": ((_IAM,), ("group", "change")),
    "SetDefaultPolicyVersion": ((_IAM,), ("admin", "change")),
    "SetSecurityTokenServicePreferences": ((_IAM,), ("admin", "change")),
    "TagUser": ((_IAM,), ("user", "change")),
    "UntagUser": ((_IAM,), ("user", "change")),
    "UpdateAccessKey": ((_IAM,), ("user", "change")),
    "UpdateAccountPasswordPolicy": ((_IAM,), ("admin", "change")),
    "UpdateGroup": ((_IAM,), ("group", "change")),
    "UpdateLoginProfile": ((_IAM,), ("user", "change")),
    "UpdateRole": ((_IAM,), ("admin", "change")),
    "UpdateSSHPublicKey": ((_IAM,), ("user", "change")),
    "UpdateUser": ((_IAM,), ("user", "change")),
    # Authentication beyond Elastic's list: the STS and sign-in calls that start a session.
    "AssumeRoleWithSAML": ((_AUTH,), ("info",)),
    "AssumeRoleWithWebIdentity": ((_AUTH,), ("info",)),
    "GetSessionToken": ((_AUTH,), ("info",)),
    "GetFederationToken": ((_AUTH,), ("info",)),
    "CheckMfa": ((_AUTH,), ("info",)),
    "SwitchRole": ((_AUTH,), ("info",)),
    "ExitRole": ((_AUTH,), ("end",)),
    "RenewRole": ((_AUTH,), ("info",)),
    "ConsoleLogout": ((_AUTH,), ("end",)),
    "PasswordRecoveryRequested": ((_AUTH,), ("info",)),
    "PasswordRecoveryCompleted": ((_AUTH,), ("info",)),
}

# Services whose write calls change identity or security configuration.
_IAM_SOURCES = frozenset(
    {
        "iam.amazonaws.com",
        "identitystore.amazonaws.com",
        "sso.amazonaws.com",
        "sso-directory.amazonaws.com",
    }
)
_AUTH_SOURCES = frozenset({"sts.amazonaws.com", "signin.amazonaws.com"})
_CONFIG_SOURCES = frozenset(
    {
        "cloudtrail.amazonaws.com",
        "config.amazonaws.com",
        "guardduty.amazonaws.com",
        "securityhub.amazonaws.com",
        "kms.amazonaws.com",
        "organizations.amazonaws.com",
        "access-analyzer.amazonaws.com",
        "macie2.amazonaws.com",
        "inspector2.amazonaws.com",
        "network-firewall.amazonaws.com",
        "waf.amazonaws.com",
        "wafv2.amazonaws.com",
        "logs.amazonaws.com",
        "ssm.amazonaws.com",
        "secretsmanager.amazonaws.com",
    }
)
# EC2 and S3 calls that change network exposure or data access rather than resources.
_CONFIG_NAME_PARTS = (
    "SecurityGroup",
    "NetworkAcl",
    "Route",
    "Vpc",
    "Subnet",
    "InternetGateway",
    "NatGateway",
    "FlowLogs",
    "BucketPolicy",
    "BucketAcl",
    "ObjectAcl",
    "PublicAccessBlock",
    "BucketEncryption",
    "BucketLogging",
    "BucketReplication",
    "BucketVersioning",
    "BucketLifecycle",
    "SnapshotAttribute",
    "ImageAttribute",
    "EbsEncryption",
)
_READ_VERBS = (
    "Get",
    "List",
    "Describe",
    "Lookup",
    "Search",
    "Head",
    "Check",
    "Simulate",
    "Generate",
    "View",
    "Test",
)
_CREATE_VERBS = ("Create", "Run", "Import", "Allocate", "Register", "Upload", "Copy")
_DELETE_VERBS = ("Delete", "Terminate", "Deregister", "Release")


def _verb_type(name: str) -> str:
    """ECS event.type from the verb an API name starts with."""
    if name.startswith(_READ_VERBS):
        return "info"
    if name.startswith(_CREATE_VERBS):
        return "creation"
    if name.startswith(_DELETE_VERBS):
        return "deletion"
    return "change"


def _iam_entity(name: str) -> str:
    if "Group" in name:
        return "group"
    if "User" in name or "LoginProfile" in name or "AccessKey" in name or "MFA" in name:
        return "user"
    return "admin"


@lru_cache(maxsize=4096)
def _categorize(name: str, source: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    known = _BY_NAME.get(name)
    if known is not None:
        return known
    if source in _AUTH_SOURCES:
        if name.startswith(("AssumeRole", "GetSessionToken", "GetFederationToken")):
            return (_AUTH,), ("info",)
        return None
    verb = _verb_type(name)
    if source in _IAM_SOURCES:
        return (_IAM,), (_iam_entity(name), verb)
    if source in _CONFIG_SOURCES or (
        source in ("ec2.amazonaws.com", "s3.amazonaws.com")
        and any(part in name for part in _CONFIG_NAME_PARTS)
    ):
        return (_CONFIG,), (verb if verb != "info" else "access",)
    return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _user_name(event: Event, identity_type: str | None) -> str | None:
    name = _str(event.get("userIdentity.userName"))
    issuer = _str(event.get("userIdentity.sessionContext.sessionIssuer.userName"))
    if issuer is not None:
        return issuer  # an assumed role acts as its role, as Elastic reports it
    if name is not None:
        return name
    if identity_type == "Root":
        return "root"
    arn = _str(event.get("userIdentity.arn"))
    if arn is not None:
        tail = arn.rsplit("/", 1)[-1] if "/" in arn else arn.rsplit(":", 1)[-1]
        return tail or None
    return None


def _add_related(ecs: Event, key: str, value: str | None) -> None:
    if not value or value == "-":
        return
    values = ecs.setdefault(key, [])
    if value not in values:
        values.append(value)


def normalize_cloudtrail(event: Event) -> None:
    """Add ECS fields to a flat CloudTrail event, in place; fields already set are kept."""
    ecs: Event = {
        "event.kind": "event",
        "cloud.provider": "aws",
        "event.module": "aws",
        "event.dataset": "aws.cloudtrail",
    }
    when = _str(event.get("eventTime"))
    if "@timestamp" not in event and when is not None:
        # On a bad value the event keeps eventTime as it came, and the parser's @timestamp.
        with contextlib.suppress(ValueError, OverflowError):
            ecs["@timestamp"] = parse_timestamp(when)
    name = _str(event.get("eventName"))
    source = _str(event.get("eventSource"))
    if name is not None:
        ecs["event.action"] = name
    if source is not None:
        ecs["event.provider"] = source

    failed = event.get("errorCode") is not None or event.get("errorMessage") is not None
    outcome = "failure" if failed else "success"
    if name == "ConsoleLogin":
        answer = _str(event.get("responseElements.ConsoleLogin"))
        if answer is not None and answer.lower() in ("success", "failure"):
            outcome = answer.lower()
    ecs["event.outcome"] = outcome
    types: tuple[str, ...] = ("info",)
    if name is not None:
        found = _categorize(name, source or "")
        if found is not None:
            ecs["event.category"] = list(found[0])
            types = found[1]
    ecs["event.type"] = list(types)

    region = _str(event.get("awsRegion"))
    if region is not None:
        ecs["cloud.region"] = region
    account = _str(event.get("userIdentity.accountId")) or _str(event.get("recipientAccountId"))
    if account is not None:
        ecs["cloud.account.id"] = account

    address = _str(event.get("sourceIPAddress"))
    if address is not None:
        ecs["source.address"] = address
        if is_ip(address):
            ecs["source.ip"] = address
            _add_related(ecs, "related.ip", address)
        else:
            ecs["source.domain"] = address  # an AWS service principal (ec2.amazonaws.com)
    agent = _str(event.get("userAgent"))
    if agent is not None:
        ecs["user_agent.original"] = agent

    identity_type = _str(event.get("userIdentity.type"))
    if identity_type is not None:
        ecs["aws.cloudtrail.user_identity.type"] = identity_type
    arn = _str(event.get("userIdentity.arn"))
    if arn is not None:
        ecs["aws.cloudtrail.user_identity.arn"] = arn
    user = _user_name(event, identity_type)
    if user is not None:
        ecs["user.name"] = user
        _add_related(ecs, "related.user", user)
    principal = _str(event.get("userIdentity.principalId"))
    if principal is not None:
        ecs["user.id"] = principal
    target = _str(event.get("requestParameters.userName"))
    if target is not None:
        ecs["user.target.name"] = target
        _add_related(ecs, "related.user", target)
    renamed = _str(event.get("requestParameters.newUserName"))
    if renamed is not None:
        ecs["user.changes.name"] = renamed
        _add_related(ecs, "related.user", renamed)
    group = _str(event.get("requestParameters.groupName"))
    if group is not None:
        ecs["group.name"] = group
    for raw, name_ecs in (
        ("errorCode", "aws.cloudtrail.error_code"),
        ("errorMessage", "aws.cloudtrail.error_message"),
    ):
        text = _str(event.get(raw))
        if text is not None:
            ecs[name_ecs] = text
    if name is not None:
        ecs["message"] = _message(name, source, user, address, outcome)
    for key, value in ecs.items():
        event.setdefault(key, value)


def _message(
    name: str, source: str | None, user: str | None, address: str | None, outcome: str
) -> str:
    parts = [name]
    if source:
        parts.append(f"on {source}")
    if user:
        parts.append(f"by {user}")
    if address:
        parts.append(f"from {address}")
    if outcome == "failure":
        parts.append("(failed)")
    return " ".join(parts)
