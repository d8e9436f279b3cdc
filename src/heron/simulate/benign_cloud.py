# ruff: noqa: E501 -- log records and their field tables read best one record a line.
"""Benign cloud activity: AWS CloudTrail (CI, jobs, console admins) and Azure sign-ins."""

from __future__ import annotations

from typing import Any

from heron.simulate.company import AWS_ACCOUNT, FQDN, TENANT_ID, Company, Person
from heron.simulate.emit import SEC, Emitter
from heron.simulate.rhythm import HOUR, Shift, pick_time

__all__ = ["aws_call", "aws_day", "azure_day"]

CI_RUNNER_IP = "52.14.211.87"
_REGION = "eu-west-1"
_COUNTRY_CITY = {
    "US": ("Chicago", "Illinois"),
    "GB": ("London", "London"),
    "DE": ("Berlin", "Berlin"),
}


def aws_call(
    em: Emitter, ns: int, identity: dict[str, Any], source: str, name: str, ip: str,
    agent: str, *, params: dict[str, Any] | None = None, error: str | None = None,
    read_only: bool = True,
) -> None:  # fmt: skip
    """One CloudTrail management event."""
    record: dict[str, Any] = {
        "userIdentity": identity,
        "eventSource": source,
        "eventName": name,
        "awsRegion": _REGION
        if source not in ("iam.amazonaws.com", "sts.amazonaws.com")
        else "us-east-1",
        "sourceIPAddress": ip,
        "userAgent": agent,
        "requestParameters": params,
        "responseElements": None,
    }
    if error:
        record["errorCode"] = error
        record["errorMessage"] = f"User is not authorized to perform: {source.split('.')[0]}:{name}"
    record.update(
        {
            "readOnly": read_only,
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": AWS_ACCOUNT,
            "eventCategory": "Management",
        }
    )
    em.cloudtrail(ns, record)


def iam_user(c: Company, name: str) -> dict[str, Any]:
    return {
        "type": "IAMUser",
        "principalId": "AIDA" + name.upper().replace("-", "")[:12].ljust(12, "X") + "EXMPL",
        "arn": f"arn:aws:iam::{AWS_ACCOUNT}:user/{name}",
        "accountId": AWS_ACCOUNT,
        "accessKeyId": c.aws_users[name],
        "userName": name,
    }


def _sso_role(em: Emitter, person: Person) -> dict[str, Any]:
    arn = f"arn:aws:sts::{AWS_ACCOUNT}:assumed-role/AWSReservedSSO_AdministratorAccess_3f2a/{person.username}@{FQDN}"
    return {
        "type": "AssumedRole",
        "principalId": f"AROAEXAMPLESSO3F2A:{person.username}@{FQDN}",
        "arn": arn,
        "accountId": AWS_ACCOUNT,
        "accessKeyId": "ASIA" + em.hex_id(8).upper(),
    }


def _deploy(em: Emitter, c: Company, ns: int) -> None:
    ident = iam_user(c, "ci-deploy")
    agent = "aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0-1017-azure md/arch#x86_64 lang/python#3.12.6"
    steps = [
        ("sts.amazonaws.com", "GetCallerIdentity", None, True),
        ("ecr.amazonaws.com", "GetAuthorizationToken", None, True),
        ("ecs.amazonaws.com", "DescribeServices", {"cluster": "prod", "services": ["web"]}, True),
        ("ecs.amazonaws.com", "RegisterTaskDefinition", {"family": "web"}, False),
        ("ecs.amazonaws.com", "UpdateService", {"cluster": "prod", "service": "web"}, False),
    ]
    for source, name, params, ro in steps:
        aws_call(em, ns, ident, source, name, CI_RUNNER_IP, agent, params=params, read_only=ro)
        ns += em.rng.randint(2, 40) * SEC


def _backup_sync(em: Emitter, c: Company, ns: int) -> None:
    ident = iam_user(c, "backup-sync")
    agent = "rclone/v1.68.2"
    aws_call(em, ns, ident, "s3.amazonaws.com", "ListBuckets", c.nat_ip, agent)
    aws_call(
        em,
        ns + 3 * SEC,
        ident,
        "s3.amazonaws.com",
        "GetBucketLocation",
        c.nat_ip,
        agent,
        params={"bucketName": "corp-backups"},
    )


def _export_job(em: Emitter, c: Company, ns: int) -> None:
    ident = iam_user(c, "data-export")
    agent = "Boto3/1.35.54 md/Botocore#1.35.54 ua/2.0 os/linux#5.15.0 lang/python#3.11.10"
    aws_call(
        em,
        ns,
        ident,
        "glue.amazonaws.com",
        "StartJobRun",
        c.nat_ip,
        agent,
        params={"jobName": "nightly-export"},
        read_only=False,
    )
    aws_call(
        em,
        ns + 2 * SEC,
        ident,
        "glue.amazonaws.com",
        "GetJobRun",
        c.nat_ip,
        agent,
        params={"jobName": "nightly-export"},
    )


def _console(em: Emitter, c: Company, person: Person, shift: Shift) -> None:
    rng = em.rng
    role = _sso_role(em, person)
    agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
    ns = pick_time(rng, shift)
    aws_call(em, ns, role, "signin.amazonaws.com", "ConsoleLogin", c.nat_ip, agent, read_only=False)
    pages = [
        [
            ("ec2.amazonaws.com", "DescribeInstances"),
            ("ec2.amazonaws.com", "DescribeSecurityGroups"),
            ("ec2.amazonaws.com", "DescribeVolumes"),
        ],
        [
            ("iam.amazonaws.com", "GetAccountSummary"),
            ("iam.amazonaws.com", "ListUsers"),
            ("iam.amazonaws.com", "ListRoles"),
            ("iam.amazonaws.com", "ListPolicies"),
            ("iam.amazonaws.com", "ListGroups"),
        ],
        [
            ("s3.amazonaws.com", "ListBuckets"),
            ("s3.amazonaws.com", "GetBucketPolicy"),
            ("s3.amazonaws.com", "GetBucketEncryption"),
        ],
        [("logs.amazonaws.com", "DescribeLogGroups"), ("logs.amazonaws.com", "FilterLogEvents")],
    ]
    for page in rng.sample(pages, rng.randint(1, 3)):
        for source, name in page:
            ns += rng.randint(1, 20) * SEC
            aws_call(em, ns, role, source, name, c.nat_ip, agent)


def aws_day(
    em: Emitter, c: Company, day_ns: int, shifts: dict[str, list[Shift]], weekend: bool
) -> None:
    """One day of CloudTrail."""
    rng = em.rng
    for _ in range(0 if weekend else rng.randint(2, 8)):
        _deploy(em, c, day_ns + int(rng.uniform(9, 18) * HOUR))
    _backup_sync(em, c, day_ns + int(2.5 * HOUR) + rng.randrange(600) * SEC)
    _export_job(em, c, day_ns + int(3 * HOUR) + rng.randrange(600) * SEC)
    for person in c.it_staff:
        for shift in shifts[person.username]:
            if rng.random() < 0.6:
                _console(em, c, person, shift)


def signin(
    em: Emitter, ns: int, person: Person, ip: str, country: str, *, error: int = 0,
    app: str = "Office 365 Exchange Online", client: str = "Browser",
) -> None:  # fmt: skip
    """One Entra ID interactive sign-in record (diagnostic settings export shape)."""
    city, state = _COUNTRY_CITY.get(country, ("Unknown", "Unknown"))
    reasons = {
        0: "Other.",
        50126: "Invalid username or password or Invalid on-premise username or password.",
        50074: "Strong Authentication is required.",
    }
    upn = f"{person.username}@{FQDN}"
    sid = em.uuid()
    record = {
        "time": f"{_iso7(ns)}",
        "resourceId": f"/tenants/{TENANT_ID}/providers/Microsoft.aadiam",
        "operationName": "Sign-in activity",
        "operationVersion": "1.0",
        "category": "SignInLogs",
        "tenantId": TENANT_ID,
        "resultType": str(error),
        "resultSignature": "None",
        "resultDescription": reasons.get(error, "Other."),
        "durationMs": 0,
        "callerIpAddress": ip,
        "correlationId": em.uuid(),
        "identity": person.full_name,
        "Level": 4,
        "location": country,
        "properties": {
            "id": sid,
            "createdDateTime": _iso7(ns),
            "userDisplayName": person.full_name,
            "userPrincipalName": upn,
            "userId": em.uuid(),
            "appId": "00000002-0000-0ff1-ce00-000000000000",
            "appDisplayName": app,
            "ipAddress": ip,
            "clientAppUsed": client,
            "status": {"errorCode": error, "failureReason": reasons.get(error, "Other.")},
            "location": {"city": city, "state": state, "countryOrRegion": country},
            "isInteractive": True,
            "authenticationRequirement": "multiFactorAuthentication"
            if error != 50126
            else "singleFactorAuthentication",
        },
    }
    em.azure_signin(ns, record)


def _iso7(ns: int) -> str:
    from heron.simulate.formats import iso_ms

    return iso_ms(ns)[:-1] + "0000Z"


def azure_day(em: Emitter, c: Company, shifts: dict[str, list[Shift]]) -> None:
    """One day of Entra ID sign-ins: office, home, typos and MFA prompts."""
    rng = em.rng
    home_ips = {
        p.username: f"{73 + i % 20}.{(i * 37) % 250 + 1}.{(i * 11) % 250 + 1}.{(i * 7) % 250 + 2}"
        for i, p in enumerate(c.people)
    }
    for person in c.people:
        for shift in shifts[person.username]:
            late = (shift.start // HOUR) % 24 >= 19
            ip, country = (
                (home_ips[person.username], person.home_country)
                if late or rng.random() < 0.2
                else (c.nat_ip, "US")
            )
            ns = shift.start + rng.randint(60, 900) * SEC
            if rng.random() < 0.07:
                signin(em, ns, person, ip, country, error=50126)
                ns += rng.randint(5, 30) * SEC
            if ip != c.nat_ip and rng.random() < 0.5:
                signin(em, ns, person, ip, country, error=50074)
                ns += rng.randint(10, 40) * SEC
            signin(em, ns, person, ip, country)
            if rng.random() < 0.5:
                signin(em, pick_time(rng, shift), person, ip, country, app="Microsoft Teams")
