/**
 * Several FreeSWITCH servers behind one client: {@link org.esl4j.cluster.EslCluster}.
 *
 * <ul>
 *   <li>Originates placed on a healthy node, round robin or by fewest live channels, moved to
 *       another node only when they could not be sent at all (never dialed twice).
 *   <li>Commands addressed by call UUID ({@code hangup}, {@code execute}, {@code apiForCall},
 *       {@code bgapiForCall}) sent to the node that owns the call; an unknown UUID fails with
 *       {@link org.esl4j.cluster.UnknownCallException}, it is never broadcast.
 *   <li>The events of every node merged, each tagged with its node ({@link
 *       org.esl4j.cluster.ClusterEvent}); node health as {@link org.esl4j.cluster.NodeState}.
 *   <li>Several application instances over the same servers, each handling its share of the calls
 *       by a stable hash of the call UUID ({@link org.esl4j.cluster.ClusterOptions.Builder#shard(int,
 *       int)}), so every call is handled once without a shared store.
 * </ul>
 */
package org.esl4j.cluster;
