package store

// SetAfterCallRead makes f run between the read and the write of an API
// call's change on PostgreSQL (changeUserAsRead), until the test ends.
func SetAfterCallRead(t interface{ Cleanup(func()) }, f func()) {
	prev := afterCallRead
	afterCallRead = f
	t.Cleanup(func() { afterCallRead = prev })
}
