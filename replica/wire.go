package replica

import (
	"errors"
	"fmt"
	"strconv"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// On the wire, between servers, one raft message is one NATS message on
// the route to its member: subject SubjectFor(to), payload a frame of
// the group's name (one length byte, then the name) and the raft message
// in protobuf.

// SubjectPrefix is the subject space of raft traffic between Fern
// servers. It is not the official $NRG space: an official server in a
// mixed cluster never subscribes to it, so it never sees Fern's raft.
// Clients and leaf connections must not publish into it (the server
// drops what they send there).
const SubjectPrefix = "$FRG."

// SubjectFor is the subject member id receives its raft messages on.
func SubjectFor(id uint64) string { return SubjectPrefix + strconv.FormatUint(id, 16) }

// ErrBadFrame: a frame that does not decode.
var ErrBadFrame = errors.New("replica: bad raft frame")

// maxGroupName is the longest group name a frame carries.
const maxGroupName = 255

// AppendFrame encodes one message of group onto dst.
func AppendFrame(dst []byte, group string, m *raftpb.Message) ([]byte, error) {
	if len(group) == 0 || len(group) > maxGroupName {
		return dst, fmt.Errorf("replica: group name %q: length %d not in 1..%d", group, len(group), maxGroupName)
	}
	dst = append(dst, byte(len(group)))
	dst = append(dst, group...)
	return proto.MarshalOptions{}.MarshalAppend(dst, m)
}

// DecodeFrame splits a frame into its group and message.
func DecodeFrame(b []byte) (string, *raftpb.Message, error) {
	if len(b) < 1 || int(b[0]) == 0 || len(b) < 1+int(b[0]) {
		return "", nil, fmt.Errorf("%w: %d bytes", ErrBadFrame, len(b))
	}
	group := string(b[1 : 1+int(b[0])])
	m := &raftpb.Message{}
	if err := proto.Unmarshal(b[1+int(b[0]):], m); err != nil {
		return "", nil, fmt.Errorf("%w: group %s: %v", ErrBadFrame, group, err)
	}
	return group, m, nil
}
