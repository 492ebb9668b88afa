package io.polyipc.examples;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/** One demo job, {"job": 3, "from": "java"}; other fields (other languages' producers add some) are ignored. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Job(long job, String from) {}
