package clientcheck;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.camunda.client.CamundaClient;
import io.camunda.client.CamundaClientBuilder;
import io.camunda.client.api.response.Topology;
import io.camunda.client.api.worker.JobHandler;
import io.camunda.client.api.worker.JobWorker;
import java.io.BufferedReader;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The client check's scenario with Camunda's Java client, unmodified; the same steps as
 * ../python/scenario.py. With --protocol rest the client keeps its default, REST preferred (job
 * streams still go over gRPC); with grpc it is told preferRestOverGrpc(false). The engine has no
 * search API, so its record log stands in for Operate to find the incident. Prints one JSON object
 * with what it saw.
 *
 * <p>Arguments: --address host:port (gRPC) --rest-address host:port --record-log FILE --bpmn FILE
 * --order-id ID [--mode polling|streaming] [--protocol rest|grpc]
 */
public final class Scenario {
  private static final ObjectMapper JSON = new ObjectMapper();

  public static void main(String[] argv) throws Exception {
    Map<String, String> a = new HashMap<>();
    for (int i = 0; i + 1 < argv.length; i += 2) {
      a.put(argv[i].replaceFirst("^--", ""), argv[i + 1]);
    }
    String orderId = a.get("order-id");
    Path recordLog = Path.of(a.get("record-log"));
    boolean streaming = "streaming".equals(a.getOrDefault("mode", "polling"));
    boolean rest = "rest".equals(a.getOrDefault("protocol", "rest"));

    Map<String, Object> out = new LinkedHashMap<>();
    List<String> handled = Collections.synchronizedList(new ArrayList<>());
    out.put("client", "camunda-client-java");
    out.put("mode", streaming ? "streaming" : "polling");
    out.put("protocol", rest ? "rest" : "grpc");
    AtomicInteger flakyCalls = new AtomicInteger();

    CamundaClientBuilder builder =
        CamundaClient.newClientBuilder()
            .grpcAddress(URI.create("http://" + a.get("address")))
            .restAddress(URI.create("http://" + a.get("rest-address")));
    if (!rest) {
      builder = builder.preferRestOverGrpc(false);
    }
    try (CamundaClient client = builder.build()) {
      Topology topology = client.newTopologyRequest().send().join();
      out.put(
          "topology",
          topology.getClusterSize()
              + " broker(s), "
              + topology.getPartitionsCount()
              + " partition(s), leader healthy: "
              + topology.getBrokers().get(0).getPartitions().get(0).isLeader()
              + " "
              + topology.getBrokers().get(0).getPartitions().get(0).getHealth());
      long definitionKey =
          client
              .newDeployResourceCommand()
              .addResourceFile(a.get("bpmn"))
              .send()
              .join()
              .getProcesses()
              .get(0)
              .getProcessDefinitionKey();
      out.put("processDefinitionKey", Long.toString(definitionKey));

      List<JobWorker> workers = new ArrayList<>();
      workers.add(
          open(
              client,
              "client-check-work",
              streaming,
              (jc, job) -> {
                    handled.add(job.getType());
                    int amount = ((Number) job.getVariablesAsMap().get("amount")).intValue();
                    jc.newCompleteCommand(job.getKey())
                        .variables(Map.of("total", amount * 2))
                        .send()
                        .join();
              }));
      workers.add(
          open(
              client,
              "client-check-risky",
              streaming,
              (jc, job) -> {
                    handled.add(job.getType());
                    jc.newThrowErrorCommand(job.getKey())
                        .errorCode("REJECTED")
                        .errorMessage("rejected by the Java client")
                        .send()
                        .join();
              }));
      workers.add(
          open(
              client,
              "io.camunda.zeebe:userTask",
              streaming,
              (jc, job) -> {
                    handled.add(job.getType());
                    out.put(
                        "userTaskAssignee", job.getCustomHeaders().get("io.camunda.zeebe:assignee"));
                    jc.newCompleteCommand(job.getKey())
                        .variables(Map.of("approved", true))
                        .send()
                        .join();
              }));
      workers.add(
          open(
              client,
              "client-check-flaky",
              streaming,
              (jc, job) -> {
                    handled.add(job.getType());
                    if (flakyCalls.incrementAndGet() == 1) {
                      jc.newFailCommand(job.getKey())
                          .retries(0)
                          .errorMessage("flaky the first time")
                          .send()
                          .join();
                      return;
                    }
                    jc.newCompleteCommand(job.getKey())
                        .variables(Map.of("flakyDone", true))
                        .send()
                        .join();
              }));

      try {
        long key =
            client
                .newCreateInstanceCommand()
                .bpmnProcessId("client-check")
                .latestVersion()
                .variables(Map.of("orderId", orderId, "amount", 21))
                .send()
                .join()
                .getProcessInstanceKey();
        out.put("processInstanceKey", Long.toString(key));
        // Published right away: the engine buffers it (time to live) until the instance's
        // subscription opens after the caught error.
        client
            .newPublishMessageCommand()
            .messageName("client-check-go")
            .correlationKey(orderId)
            .messageId("go-" + orderId)
            .timeToLive(Duration.ofMinutes(1))
            .variables(Map.of("go", "java"))
            .send()
            .join();
        JsonNode incident = waitRecord(recordLog, key, "INCIDENT", "CREATED", null);
        long incidentKey = incident.get("key").asLong();
        out.put("incidentKey", Long.toString(incidentKey));
        client
            .newUpdateRetriesCommand(incident.get("value").get("jobKey").asLong())
            .retries(1)
            .send()
            .join();
        client.newResolveIncidentCommand(incidentKey).send().join();
        waitRecord(recordLog, key, "PROCESS_INSTANCE", "ELEMENT_COMPLETED", "PROCESS");
      } finally {
        workers.forEach(JobWorker::close);
      }
    }
    out.put("handled", handled);
    System.out.println(JSON.writeValueAsString(out));
  }

  /** Opens a worker of one job type, polling or streaming (it still polls then too). */
  private static JobWorker open(
      CamundaClient client, String type, boolean streaming, JobHandler handler) {
    return client
        .newWorker()
        .jobType(type)
        .handler(handler)
        .name(streaming ? "java-streaming" : "java-polling")
        .streamEnabled(streaming)
        .open();
  }

  /** The first EVENT record of the instance with this value type and intent, waiting 30 s. */
  private static JsonNode waitRecord(
      Path log, long instanceKey, String valueType, String intent, String elementType)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      try (BufferedReader r = Files.newBufferedReader(log, StandardCharsets.UTF_8)) {
        String line;
        while ((line = r.readLine()) != null) {
          if (!line.startsWith("{")) {
            continue;
          }
          JsonNode n;
          try {
            n = JSON.readTree(line);
          } catch (IOException e) {
            continue; // the engine is still writing this line
          }
          JsonNode v = n.path("value");
          if ("EVENT".equals(n.path("recordType").asText())
              && valueType.equals(n.path("valueType").asText())
              && intent.equals(n.path("intent").asText())
              && v.path("processInstanceKey").asLong() == instanceKey
              && (elementType == null || elementType.equals(v.path("bpmnElementType").asText()))) {
            return n;
          }
        }
      } catch (NoSuchFileException e) {
        // not written yet
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException(
        "no " + valueType + " " + intent + " for instance " + instanceKey + " in " + log);
  }
}
