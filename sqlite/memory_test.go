package sqlite

import "testing"

func TestBlocks(t *testing.T) {
	var b blocks[int64]
	const n = 3*blockSize + 5
	for i := range int64(n) {
		if got := b.push(i * 10); got != i {
			t.Fatalf("push %d returned number %d", i, got)
		}
	}
	for range 2*blockSize + 1 {
		b.dropOldest()
	}
	if b.head != 2*blockSize+1 || len(b.list) != 2 {
		t.Fatalf("after dropping: head %d with %d blocks, want %d with 2", b.head, len(b.list), 2*blockSize+1)
	}
	for i := b.head; i < b.next; i++ {
		if got := *b.at(i); got != i*10 {
			t.Fatalf("element %d = %d, want %d", i, got, i*10)
		}
	}
	// Numbers go on where they were once the list is emptied and refilled.
	for b.head < b.next {
		b.dropOldest()
	}
	if got := b.push(7); got != n || *b.at(n) != 7 {
		t.Errorf("push after emptying: number %d holding %d, want %d holding 7", got, *b.at(got), n)
	}
}
