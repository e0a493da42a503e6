"""Drives AWS Secrets Manager (here: certrotor's emulator) with boto3 (Debian python3-boto3) and prints what
it observed as one JSON object. Every raw answer is also checked against botocore's own Secrets Manager
service model (the shapes the real service is specified by): no member the model lacks, every member of
the model's type (timestamps as epoch numbers in JSON 1.1), and every error code one the operation may
return. It asserts nothing itself: test/emulators/aws-boto3.test.ts checks the observations against AWS's
documented behaviour. Input (stdin, JSON): url, region, accessKeyId, secretAccessKey, run (a name prefix).

Run with Debian's interpreter (/usr/bin/python3): a pyenv python does not see the Debian packages.
"""
import base64
import json
import sys

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError

# Front-end errors any operation may answer (authentication, throttling, request shape): not in each
# operation's modeled errors.
COMMON_ERRORS = {
    "AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException", "ThrottlingException",
    "ValidationException", "SerializationException", "UnknownOperationException", "IncompleteSignature",
    "MissingAuthenticationToken", "ServiceUnavailable", "RequestEntityTooLarge",
}


def check(shape, value, where, problems):
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            problems.append("%s: expected an object for %s" % (where, shape.name))
            return
        for key, item in value.items():
            if key not in shape.members:
                problems.append("%s: %s is not a member of %s" % (where, key, shape.name))
            else:
                check(shape.members[key], item, where + "." + key, problems)
        for key in shape.required_members:
            if key not in value:
                problems.append("%s: required member %s missing" % (where, key))
    elif kind == "list":
        if not isinstance(value, list):
            problems.append("%s: expected a list" % where)
            return
        for index, item in enumerate(value):
            check(shape.member, item, "%s[%d]" % (where, index), problems)
    elif kind == "map":
        if not isinstance(value, dict):
            problems.append("%s: expected a map" % where)
            return
        for key, item in value.items():
            check(shape.key, key, where + "{key}", problems)
            check(shape.value, item, "%s{%s}" % (where, key), problems)
    elif kind == "string":
        if not isinstance(value, str):
            problems.append("%s: expected a string" % where)
        elif shape.enum and value not in shape.enum:
            problems.append("%s: %r is not one of %s" % (where, value, shape.enum))
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append("%s: expected an integer" % where)
    elif kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append("%s: expected a number" % where)
    elif kind == "boolean":
        if not isinstance(value, bool):
            problems.append("%s: expected a boolean" % where)
    elif kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append("%s: expected epoch seconds (a number), got %r" % (where, value))
    elif kind == "blob":
        try:
            base64.b64decode(value, validate=True)
        except Exception:
            problems.append("%s: expected base64" % where)


def main():
    cfg = json.load(sys.stdin)
    session = botocore.session.get_session()
    problems = []
    raw = []

    sm = boto3.Session(
        botocore_session=session,
        aws_access_key_id=cfg["accessKeyId"],
        aws_secret_access_key=cfg["secretAccessKey"],
        region_name=cfg["region"],
    ).client(
        "secretsmanager",
        endpoint_url=cfg["url"],
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, proxies={}),
    )
    def validate(event_name, response_dict=None, **_):
        # botocore 1.29 emits response-received.<service id>.<operation> with the raw answer.
        if response_dict is None:
            return
        operation_model = sm.meta.service_model.operation_model(event_name.split(".")[-1])
        body = json.loads(response_dict["body"] or b"{}")
        status = response_dict["status_code"]
        raw.append({"operation": operation_model.name, "status": status, "body": body})
        where = operation_model.name
        if status < 300:
            check(operation_model.output_shape, body, where, problems)
            return
        code = str(body.get("__type", "")).split("#")[-1]
        modeled = {shape.name: shape for shape in operation_model.error_shapes}
        if code in modeled:
            check(modeled[code], {k: v for k, v in body.items() if k != "__type"}, where + " " + code, problems)
        elif code not in COMMON_ERRORS:
            problems.append("%s: error %r is not one the operation may return" % (where, code))
        if status != 400 and code != "InternalServiceError":
            problems.append("%s: %s answered with HTTP %d, AWS sends 400" % (where, code, status))

    sm.meta.events.register("response-received.secrets-manager", validate)
    run = cfg["run"]
    out = {}

    def error_of(call):
        try:
            call()
            return None
        except ClientError as error:
            return {
                "code": error.response["Error"]["Code"],
                "message": error.response["Error"]["Message"],
                "status": error.response["ResponseMetadata"]["HTTPStatusCode"],
            }

    def labels(name):
        return sm.describe_secret(SecretId=name).get("VersionIdsToStages", {})

    # A promote cut between its two calls, then a PutSecretValue with default stages.
    name = run + "/cut"
    v1 = sm.create_secret(Name=name, SecretString="S1")["VersionId"]
    vr = sm.put_secret_value(SecretId=name, SecretString="S2", VersionStages=["AWSPENDING"])["VersionId"]
    sm.update_secret_version_stage(SecretId=name, VersionStage="AWSCURRENT", MoveToVersionId=vr, RemoveFromVersionId=v1)
    out["cut"] = {"v1": v1, "vR": vr, "afterMove": labels(name)}
    v3 = sm.put_secret_value(SecretId=name, SecretString="S3")["VersionId"]
    out["cut"]["v3"] = v3
    out["cut"]["afterPut"] = labels(name)
    out["pendingGone"] = error_of(lambda: sm.get_secret_value(SecretId=name, VersionStage="AWSPENDING"))

    # AWSCURRENT cannot just be removed.
    out["removeCurrent"] = error_of(
        lambda: sm.update_secret_version_stage(SecretId=name, VersionStage="AWSCURRENT", RemoveFromVersionId=v3)
    )
    out["afterRemove"] = labels(name)

    # An empty Description.
    sm.create_secret(Name=run + "/empty-description", SecretString="S1", Description="")
    sm.describe_secret(SecretId=run + "/empty-description")
    out["describeEmptyDescription"] = raw[-1]["body"]

    # The version quota: 100 versions, none removable within 24 hours.
    quota = run + "/quota"
    sm.create_secret(Name=quota, SecretString="S0")
    for i in range(99):
        sm.put_secret_value(SecretId=quota, SecretString="S%d" % (i + 1), VersionStages=["ROLL"])
    out["quotaVersions"] = len(sm.list_secret_version_ids(SecretId=quota, IncludeDeprecated=True)["Versions"])
    out["quota"] = error_of(lambda: sm.put_secret_value(SecretId=quota, SecretString="one too many"))

    # Pagination with boto3's own paginator over a name prefix.
    for i in range(5):
        sm.create_secret(Name="%s/paged/%d" % (run, i), SecretString="S")
    pages = sm.get_paginator("list_secrets").paginate(
        Filters=[{"Key": "name", "Values": [run + "/paged/"]}], PaginationConfig={"PageSize": 2}
    )
    out["paged"] = sorted(entry["Name"] for page in pages for entry in page["SecretList"])

    out["problems"] = problems
    out["answers"] = len(raw)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
