package jetstream

import (
	"strconv"
	"time"
)

// Status messages are header-only messages (empty payload) whose header
// block starts with "NATS/1.0 <code> <description>". Pull consumers send
// them to a request's reply inbox, push consumers to the deliver subject.
// Clients match 409 descriptions by lowercase substring, so the texts are
// exactly the reference server's.
const (
	statusIdleHeartbeat    = "Idle Heartbeat"
	statusFlowControl      = "FlowControl Request"
	statusNoMessages       = "No Messages"
	statusRequestTimeout   = "Request Timeout"
	statusRequestsPending  = "Requests Pending"
	statusMaxBytesExceeded = "Message Size Exceeds MaxBytes"
	statusBatchCompleted   = "Batch Completed"
	statusMaxWaiting       = "Exceeded MaxWaiting"
	statusConsumerDeleted  = "Consumer Deleted"
	statusPushBased        = "Consumer is push based"
	statusLeadershipChange = "Leadership Change"
	statusInterestExpired  = "Interest Expired"
)

// Header names carried by status messages.
const (
	hdrPendingMessages  = "Nats-Pending-Messages"
	hdrPendingBytes     = "Nats-Pending-Bytes"
	hdrLastConsumer     = "Nats-Last-Consumer"
	hdrLastStream       = "Nats-Last-Stream"
	hdrConsumerStalled  = "Nats-Consumer-Stalled"
	hdrMsgSize          = "Nats-Msg-Size"
	statusLinePrefix    = "NATS/1.0 "
	flowControlHdrBlock = "NATS/1.0 100 FlowControl Request\r\n\r\n"
)

// pullStatus is a status message to send: code and description, and the
// pending headers when WithPending.
type pullStatus struct {
	Code         int
	Desc         string
	WithPending  bool
	PendingMsgs  int
	PendingBytes int
}

// appendTo appends the header block of the status; nothing is allocated
// when dst has room.
func (st pullStatus) appendTo(dst []byte) []byte {
	dst = append(dst, statusLinePrefix...)
	dst = strconv.AppendInt(dst, int64(st.Code), 10)
	dst = append(dst, ' ')
	dst = append(dst, st.Desc...)
	dst = append(dst, '\r', '\n')
	if st.WithPending {
		dst = appendIntHeader(dst, hdrPendingMessages, int64(st.PendingMsgs))
		dst = appendIntHeader(dst, hdrPendingBytes, int64(st.PendingBytes))
	}
	return append(dst, '\r', '\n')
}

func appendIntHeader(dst []byte, name string, v int64) []byte {
	dst = append(dst, name...)
	dst = append(dst, ':', ' ')
	dst = strconv.AppendInt(dst, v, 10)
	return append(dst, '\r', '\n')
}

func appendUintHeader(dst []byte, name string, v uint64) []byte {
	dst = append(dst, name...)
	dst = append(dst, ':', ' ')
	dst = strconv.AppendUint(dst, v, 10)
	return append(dst, '\r', '\n')
}

// The statuses with fixed text.
func noMessagesStatus() pullStatus      { return pullStatus{Code: 404, Desc: statusNoMessages} }
func requestsPendingStatus() pullStatus { return pullStatus{Code: 408, Desc: statusRequestsPending} }
func maxWaitingStatus() pullStatus      { return pullStatus{Code: 409, Desc: statusMaxWaiting} }
func consumerDeletedStatus() pullStatus { return pullStatus{Code: 409, Desc: statusConsumerDeleted} }
func pushBasedStatus() pullStatus       { return pullStatus{Code: 409, Desc: statusPushBased} }
func leadershipStatus() pullStatus      { return pullStatus{Code: 409, Desc: statusLeadershipChange} }

// requestTimeoutStatus is the 408 sent when a pull request expires, with
// what was left of its batch and bytes.
func requestTimeoutStatus(n, b int) pullStatus {
	return pullStatus{Code: 408, Desc: statusRequestTimeout, WithPending: true, PendingMsgs: n, PendingBytes: b}
}

// maxBytesStatus is the 409 sent when the next message does not fit the
// request's remaining max_bytes.
func maxBytesStatus(n, b int) pullStatus {
	return pullStatus{Code: 409, Desc: statusMaxBytesExceeded, WithPending: true, PendingMsgs: n, PendingBytes: b}
}

// batchCompletedStatus is the 409 sent when the batch count is used up
// while max_bytes remain.
func batchCompletedStatus(n, b int) pullStatus {
	return pullStatus{Code: 409, Desc: statusBatchCompleted, WithPending: true, PendingMsgs: n, PendingBytes: b}
}

// badRequestStatus is "400 Bad Request - <reason>".
func badRequestStatus(reason string) pullStatus {
	return pullStatus{Code: 400, Desc: "Bad Request - " + reason}
}

// exceededBatchStatus, exceededExpiresStatus and exceededMaxBytesStatus
// are the 409s for a request over the consumer's caps.
func exceededBatchStatus(limit int) pullStatus {
	return pullStatus{Code: 409, Desc: "Exceeded MaxRequestBatch of " + strconv.Itoa(limit)}
}

func exceededExpiresStatus(limit time.Duration) pullStatus {
	return pullStatus{Code: 409, Desc: "Exceeded MaxRequestExpires of " + limit.String()}
}

func exceededMaxBytesStatus(limit int) pullStatus {
	return pullStatus{Code: 409, Desc: "Exceeded MaxRequestMaxBytes of " + strconv.Itoa(limit)}
}

// appendIdleHeartbeat appends the "100 Idle Heartbeat" header block with
// the last delivered consumer and stream sequences, and, while a flow
// control request is unanswered, its reply subject as
// Nats-Consumer-Stalled.
func appendIdleHeartbeat(dst []byte, lastConsumer, lastStream uint64, stalled string) []byte {
	dst = append(dst, statusLinePrefix...)
	dst = append(dst, "100 "...)
	dst = append(dst, statusIdleHeartbeat...)
	dst = append(dst, '\r', '\n')
	dst = appendUintHeader(dst, hdrLastConsumer, lastConsumer)
	dst = appendUintHeader(dst, hdrLastStream, lastStream)
	if stalled != "" {
		dst = append(dst, hdrConsumerStalled...)
		dst = append(dst, ':', ' ')
		dst = append(dst, stalled...)
		dst = append(dst, '\r', '\n')
	}
	return append(dst, '\r', '\n')
}

// appendFlowControlRequest appends the "100 FlowControl Request" header
// block; it is published to the deliver subject with reply = the flow
// control subject the client must answer.
func appendFlowControlRequest(dst []byte) []byte {
	return append(dst, flowControlHdrBlock...)
}

// flowControlReply returns "$JS.FC.<stream>.<consumer>.<id>" (v1).
func flowControlReply(stream, consumer, id string) string {
	return "$JS.FC." + stream + "." + consumer + "." + id
}
