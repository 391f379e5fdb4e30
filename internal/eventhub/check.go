package eventhub

import (
	"context"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azeventhubs/v2"
)

// checkSend opens the producer link to the first partition without sending anything. The service
// authorizes a link when it is attached, so a connection string or identity that may read the
// hub's properties but not send (a Listen-only policy, a role other than Data Sender) fails here,
// at start-up, instead of at the first tick's publish. The link stays open for that publish.
func (s *Sink) checkSend(ctx context.Context, partitionID string) error {
	err := s.retry(ctx, "opening a link to partition "+partitionID, func(ctx context.Context, pc *azeventhubs.ProducerClient) error {
		_, err := pc.NewEventDataBatch(ctx, &azeventhubs.EventDataBatchOptions{PartitionID: &partitionID})
		return err
	})
	if err != nil {
		return s.wrap(fmt.Errorf("connecting to Event Hub %s: opening a link to send to partition %s: %w", s.target, partitionID, err))
	}
	return nil
}
