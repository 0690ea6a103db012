// Calls the three HuleEdu services from @grpc/grpc-js with stubs built at run time from the
// .proto files alone (no generated code, no reflection). Prints one JSON object of what it saw.
//
//   node client.mjs <proto dir> <third_party dir> <cj target> <lps target> <ras target>
import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";

const [protoDir, thirdPartyDir, cjTarget, lpsTarget, rasTarget] = process.argv.slice(2);

const definition = protoLoader.loadSync(
  [
    "huleedu/cj/v1/cj_assessment_service.proto",
    "huleedu/llm/v1/llm_provider_service.proto",
    "huleedu/results/v1/result_aggregator_service.proto",
  ],
  { includeDirs: [protoDir, thirdPartyDir], keepCase: true, longs: String, enums: String, defaults: true, oneofs: true },
);
const packages = grpc.loadPackageDefinition(definition);
const credentials = grpc.credentials.createInsecure();
const cj = new packages.huleedu.cj.v1.CjAssessmentService(cjTarget, credentials);
const lps = new packages.huleedu.llm.v1.LlmProviderService(lpsTarget, credentials);
const ras = new packages.huleedu.results.v1.ResultAggregatorService(rasTarget, credentials);

const deadline = (seconds) => ({ deadline: new Date(Date.now() + seconds * 1000) });

function unary(client, method, request) {
  return new Promise((resolve, reject) => {
    client[method](request, new grpc.Metadata(), deadline(30), (error, response) =>
      error ? reject(error) : resolve(response),
    );
  });
}

function failure(client, method, request) {
  return unary(client, method, request).then(
    () => ({ code: "OK" }),
    (error) => ({
      code: grpc.status[error.code],
      details: error.details,
      has_rich_status: error.metadata.get("grpc-status-details-bin").length > 0,
    }),
  );
}

function streamAll(client, method, request) {
  return new Promise((resolve, reject) => {
    const events = [];
    const call = client[method](request, new grpc.Metadata(), deadline(120));
    call.on("data", (event) => events.push(event));
    call.on("error", reject);
    call.on("end", () => resolve(events));
  });
}

const essays = [
  "Phones should stay in lockers during lessons, because attention is a limited resource and every buzz spends some.",
  "Phones are useful.",
  "A ban is simple to announce but hard to enforce; teachers would rather teach students when a phone helps and when it harms.",
].map((text, i) => ({ essay_id: `node-${i}`, text }));

const seen = {};
seen.mock_mode = await unary(lps, "GetMockMode", {});
const created = await unary(cj, "CreateAssessment", {
  request_id: `node-${Date.now()}`,
  essays,
  comparison_budget: 6,
});
seen.created_state = created.assessment.state;
const events = await streamAll(cj, "StreamComparisonResults", { name: created.assessment.name });
seen.stream_events = events.map((e) => e.event);
const result = await unary(cj, "GetAssessmentResult", { name: created.assessment.name });
seen.ranked = result.result.essay_results.map((e) => e.essay_id);
seen.too_few_essays = await failure(cj, "CreateAssessment", { request_id: "node-bad", essays: essays.slice(0, 1) });
seen.unknown_batch = await failure(ras, "GetBatchStatus", { batch_id: "no-such-batch" });
console.log(JSON.stringify(seen));
for (const client of [cj, lps, ras]) client.close();
