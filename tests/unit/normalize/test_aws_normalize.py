"""CloudTrail → ECS choices that the golden files do not pin down one by one."""

from __future__ import annotations

import pytest

from heron.normalize.aws import normalize_cloudtrail


def _event(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {"@timestamp": 1, "event.module": "aws"}
    base.update(fields)
    return base


@pytest.mark.parametrize(
    ("fields", "user"),
    [
        ({"userIdentity.userName": "alice"}, "alice"),
        (
            {
                "userIdentity.userName": "alice",
                "userIdentity.sessionContext.sessionIssuer.userName": "Admins",
            },
            "Admins",
        ),
        ({"userIdentity.type": "Root", "userIdentity.arn": "arn:aws:iam::1:root"}, "root"),
        ({"userIdentity.arn": "arn:aws:sts::1:federated-user/carol"}, "carol"),
        ({"userIdentity.type": "AWSService", "userIdentity.invokedBy": "ec2.amazonaws.com"}, None),
    ],
)
def test_user_name_sources(fields: dict[str, object], user: str | None) -> None:
    event = _event(eventName="GetCallerIdentity", eventSource="sts.amazonaws.com", **fields)
    normalize_cloudtrail(event)
    assert event.get("user.name") == user


@pytest.mark.parametrize(
    ("name", "source", "category", "types"),
    [
        ("CreateUser", "iam.amazonaws.com", ["iam"], ["user", "creation"]),
        ("CreateRole", "iam.amazonaws.com", ["iam"], ["admin", "creation"]),
        ("DeleteGroup", "iam.amazonaws.com", ["iam"], ["group", "deletion"]),
        ("ListRoles", "iam.amazonaws.com", ["iam"], ["admin", "info"]),
        ("ConsoleLogin", "signin.amazonaws.com", ["authentication"], ["info"]),
        ("AssumeRoleWithSAML", "sts.amazonaws.com", ["authentication"], ["info"]),
        ("StopLogging", "cloudtrail.amazonaws.com", ["configuration"], ["change"]),
        ("DeleteTrail", "cloudtrail.amazonaws.com", ["configuration"], ["deletion"]),
        ("DescribeTrails", "cloudtrail.amazonaws.com", ["configuration"], ["access"]),
        ("PutBucketPolicy", "s3.amazonaws.com", ["configuration"], ["change"]),
        ("CreateBucket", "s3.amazonaws.com", ["file"], ["creation"]),
        ("RunInstances", "ec2.amazonaws.com", None, ["info"]),
        ("GetObject", "s3.amazonaws.com", None, ["info"]),
    ],
)
def test_categories(name: str, source: str, category: list[str] | None, types: list[str]) -> None:
    event = _event(eventName=name, eventSource=source)
    normalize_cloudtrail(event)
    assert event.get("event.category") == category
    assert event["event.type"] == types
    assert event["event.action"] == name
    assert event["event.provider"] == source


@pytest.mark.parametrize(
    ("fields", "outcome"),
    [
        ({}, "success"),
        ({"errorCode": "AccessDenied"}, "failure"),
        ({"errorMessage": "nope"}, "failure"),
        ({"eventName": "ConsoleLogin", "responseElements.ConsoleLogin": "Success"}, "success"),
        ({"eventName": "ConsoleLogin", "responseElements.ConsoleLogin": "Failure"}, "failure"),
        ({"eventName": "ConsoleLogin", "responseElements.ConsoleLogin": "Weird"}, "success"),
    ],
)
def test_outcome(fields: dict[str, object], outcome: str) -> None:
    event = _event(**{"eventName": "ListUsers", **fields})
    normalize_cloudtrail(event)
    assert event["event.outcome"] == outcome


@pytest.mark.parametrize(
    ("address", "ip", "domain"),
    [
        ("192.0.2.10", "192.0.2.10", None),
        ("2001:db8::1", "2001:db8::1", None),
        ("AWS Internal", None, "AWS Internal"),
        ("cloudformation.amazonaws.com", None, "cloudformation.amazonaws.com"),
    ],
)
def test_source_address(address: str, ip: str | None, domain: str | None) -> None:
    event = _event(eventName="X", sourceIPAddress=address)
    normalize_cloudtrail(event)
    assert event["source.address"] == address
    assert event.get("source.ip") == ip
    assert event.get("source.domain") == domain


def test_fields_already_set_are_kept() -> None:
    event = _event(eventName="CreateUser", **{"event.action": "custom", "user.name": "x"})
    normalize_cloudtrail(event)
    assert event["event.action"] == "custom"
    assert event["cloud.provider"] == "aws"


def test_target_user_and_group_from_request_parameters() -> None:
    event = _event(
        eventName="AddUserToGroup",
        eventSource="iam.amazonaws.com",
        **{
            "userIdentity.userName": "admin",
            "requestParameters.userName": "eve",
            "requestParameters.groupName": "Admins",
        },
    )
    normalize_cloudtrail(event)
    assert event["user.target.name"] == "eve"
    assert event["group.name"] == "Admins"
    assert event["related.user"] == ["admin", "eve"]
