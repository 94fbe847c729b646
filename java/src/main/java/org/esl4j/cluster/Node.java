package org.esl4j.cluster;

import org.esl4j.ClientOptions;
import org.esl4j.EslClient;

/**
 * One FreeSWITCH server of a cluster: its settings, its current client and its health. The
 * client and state change only while holding this object's monitor (see {@link NodeSupervisor}).
 */
final class Node {
    final String name;
    final ClientOptions options;
    /** The connected (or reconnecting) client; null while {@link NodeState#DOWN}. */
    volatile EslClient client;
    volatile NodeState state = NodeState.DOWN;
    /** Why the last connect failed, for error messages; null when none failed. */
    volatile String lastFailure;

    Node(String name, ClientOptions options) {
        this.name = name;
        this.options = options;
    }

    /** The client if the node takes commands now, else null. */
    EslClient usableClient() {
        EslClient current = client;
        return state == NodeState.UP && current != null && current.isConnected() ? current : null;
    }

    /** Why the node takes no commands, for error messages. */
    String describeState() {
        String failure = lastFailure;
        return name + " is " + state + (state == NodeState.DOWN && failure != null ? " (" + failure + ")" : "");
    }
}
