package io.polyipc;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * What a worker runs for one function of a {@link Pool} ({@link Pool#serve(java.util.Map)}): receives the
 * task's arguments as decoded JSON and returns the result, which is written as JSON by Jackson (a {@link
 * JsonNode} as it is, null as JSON null). An exception fails the task: its message is the error text the
 * submitter gets (its class name when it has no message).
 */
@FunctionalInterface
public interface PoolHandler {
  Object apply(JsonNode args) throws Exception;
}
