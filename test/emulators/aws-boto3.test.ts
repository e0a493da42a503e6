/**
 * The AWS Secrets Manager emulator driven by boto3 (Debian python3-boto3), with every raw answer checked
 * against botocore's Secrets Manager service model, and the observations checked against AWS's documented
 * behaviour (API reference, AWS-recorded answers), not against certrotor's adapter.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { pythonDriver } from "./clients/run.js";
import { type AwsEmulator, startAwsEmulator } from "./aws/server.js";

interface AwsError {
  code: string;
  message: string;
  status: number;
}

interface Report {
  cut: {
    v1: string;
    vR: string;
    v3: string;
    afterMove: Record<string, string[]>;
    afterPut: Record<string, string[]>;
  };
  pendingGone: AwsError | null;
  removeCurrent: AwsError | null;
  afterRemove: Record<string, string[]>;
  describeEmptyDescription: Record<string, unknown>;
  quotaVersions: number;
  quota: AwsError | null;
  paged: string[];
  problems: string[];
  answers: number;
}

describe("AWS Secrets Manager emulator through boto3, checked against botocore's model and AWS's documented behaviour", () => {
  let emulator: AwsEmulator;
  let report: Report;
  const run = `boto3-${randomBytes(3).toString("hex")}`;
  before(async () => {
    // AWS's own 24-hour retention of unlabelled versions (the default).
    emulator = await startAwsEmulator();
    report = await pythonDriver<Report>("aws_boto3.py", {
      url: emulator.url,
      region: emulator.region,
      ...emulator.credentials,
      run,
    });
  });
  after(() => emulator?.stop());

  it("answers every call in the shapes of botocore's Secrets Manager model: no unknown member, right types, modeled error codes, HTTP 400 for client errors", () => {
    assert.ok(report.answers > 100, `${report.answers} answers checked`);
    assert.deepEqual(report.problems, []);
  });

  it("moves AWSCURRENT with UpdateSecretVersionStage leaving AWSPENDING where it is (AWS-validated), and a default PutSecretValue then drops it from the version it leaves", () => {
    const { v1, vR, v3, afterMove, afterPut } = report.cut;
    assert.deepEqual(afterMove, { [v1]: ["AWSPREVIOUS"], [vR]: ["AWSCURRENT", "AWSPENDING"] });
    assert.deepEqual(afterPut, { [vR]: ["AWSPREVIOUS"], [v3]: ["AWSCURRENT"] });
    assert.deepEqual(report.pendingGone, {
      code: "ResourceNotFoundException",
      message: "Secrets Manager can't find the specified secret value for staging label: AWSPENDING",
      status: 400,
    });
  });

  it("refuses to remove AWSCURRENT without moving it (API_UpdateSecretVersionStage; AWS's text as terraform-provider-aws quotes it)", () => {
    assert.deepEqual(report.removeCurrent, {
      code: "InvalidParameterException",
      message:
        "You can only move staging label AWSCURRENT to a different secret version. It can’t be completely removed.",
      status: 400,
    });
    assert.deepEqual(report.afterRemove, {
      [report.cut.vR]: ["AWSPREVIOUS"],
      [report.cut.v3]: ["AWSCURRENT"],
    });
  });

  it("leaves an empty Description out of DescribeSecret", () => {
    assert.equal("Description" in report.describeEmptyDescription, false);
    assert.equal(typeof report.describeEmptyDescription.CreatedDate, "number", "epoch seconds");
  });

  it("refuses a 101st version while no unlabelled one is 24 hours old with LimitExceededException (API_PutSecretValue, service quotas)", () => {
    assert.equal(report.quotaVersions, 100);
    assert.equal(report.quota?.code, "LimitExceededException");
    assert.equal(report.quota?.status, 400);
  });

  it("pages ListSecrets through boto3's own paginator, each secret once, though filtered pages may be empty", () => {
    assert.deepEqual(
      report.paged,
      [0, 1, 2, 3, 4].map((i) => `${run}/paged/${i}`),
    );
  });
});
